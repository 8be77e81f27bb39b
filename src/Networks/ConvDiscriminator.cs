using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// A small convolutional discriminator for images [B, C, H, W]: stride-2 3×3 convolutions with LeakyReLU(0.2),
/// doubling channels until 4×4 or smaller, then a linear head → one logit per sample, shape [B]. A light stand-in for
/// the official projected StyleGAN-XL discriminator, which needs frozen ImageNet backbones.
/// </summary>
public sealed class ConvDiscriminator : nn.Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Linear head;
    private readonly int _channels, _resolution;

    /// <summary>Creates the discriminator.</summary>
    /// <param name="channels">Image channels C.</param>
    /// <param name="resolution">Image side H = W (≥ 4).</param>
    /// <param name="baseChannels">Channels of the first convolution.</param>
    /// <param name="name">Module name.</param>
    /// <param name="generator">If given, draws the initial weights (PyTorch's default ranges) so one seed gives one network; null = TorchSharp's global RNG.</param>
    public ConvDiscriminator(int channels, int resolution, int baseChannels = 32, string name = "conv_discriminator", Generator? generator = null) : base(name)
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be ≥ 1.");
        if (resolution < 4) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "resolution must be ≥ 4.");
        if (baseChannels < 1) throw new ArgumentOutOfRangeException(nameof(baseChannels), baseChannels, "baseChannels must be ≥ 1.");
        _channels = channels; _resolution = resolution;
        body = nn.Sequential();
        int c = channels, r = resolution, width = baseChannels;
        while (r > 4)
        {
            body.append(nn.Conv2d(c, width, 3, stride: 2, padding: 1));
            body.append(nn.LeakyReLU(0.2));
            c = width; width = Math.Min(width * 2, 512); r = (r + 1) / 2;
        }
        body.append(nn.Conv2d(c, c, 3, padding: 1));
        body.append(nn.LeakyReLU(0.2));
        head = nn.Linear(c * r * r, 1);
        RegisterComponents();
        if (generator is not null) DefaultInit.Redraw(this, generator);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != _channels || x.shape[2] != _resolution || x.shape[3] != _resolution)
            throw new ArgumentException($"ConvDiscriminator expects [B, {_channels}, {_resolution}, {_resolution}], got [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = NewDisposeScope();
        return head.call(body.call(x).flatten(1)).squeeze(1).MoveToOuterDisposeScope();
    }
}
