using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>A discriminator for vectors: Linear → LeakyReLU(0.2) blocks → one logit per sample, shape [B].</summary>
public sealed class MlpDiscriminator : nn.Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Linear head;

    /// <summary>Creates the discriminator.</summary>
    /// <param name="dimension">Input dimension D.</param>
    /// <param name="hidden">Hidden width.</param>
    /// <param name="layers">Hidden layers (≥ 1).</param>
    /// <param name="name">Module name.</param>
    /// <param name="generator">If given, draws the initial weights (PyTorch's default ranges) so one seed gives one network; null = TorchSharp's global RNG.</param>
    public MlpDiscriminator(int dimension, int hidden = 128, int layers = 3, string name = "mlp_discriminator", Generator? generator = null) : base(name)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be ≥ 1.");
        if (hidden < 1) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "hidden must be ≥ 1.");
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), layers, "layers must be ≥ 1.");
        body = nn.Sequential();
        for (int i = 0; i < layers; i++)
        {
            body.append(nn.Linear(i == 0 ? dimension : hidden, hidden));
            body.append(nn.LeakyReLU(0.2));
        }
        head = nn.Linear(hidden, 1);
        RegisterComponents();
        if (generator is not null) DefaultInit.Redraw(this, generator);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.call(body.call(x.flatten(1))).squeeze(1).MoveToOuterDisposeScope();
    }
}
