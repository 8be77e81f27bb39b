using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// The official <c>TimestepEmbedSequential</c>: the layers of one U-Net block, registered under their indices
/// ("0", "1", …), called in order; residual blocks also receive the t- and s-embeddings.
/// </summary>
internal sealed class AdmTimestepBlock : nn.Module
{
    private readonly List<nn.Module> _layers = new();

    public AdmTimestepBlock(IReadOnlyList<AdmLayer> layers, AdmUNetConfig config) : base("TimestepEmbedSequential")
    {
        for (int i = 0; i < layers.Count; i++)
        {
            var spec = layers[i];
            nn.Module module = spec.Kind switch
            {
                AdmLayerKind.InputConv => nn.Conv2d(spec.InChannels, spec.OutChannels, 3, padding: 1),
                AdmLayerKind.ResBlock => new AdmResBlock(spec, config),
                AdmLayerKind.Attention => new AdmAttentionBlock(spec),
                AdmLayerKind.Downsample => new AdmDownsample(spec.InChannels, config.ConvResample),
                AdmLayerKind.Upsample => new AdmUpsample(spec.InChannels, config.ConvResample),
                _ => throw new ArgumentOutOfRangeException(nameof(layers), spec.Kind, "Unknown layer kind."),
            };
            _layers.Add(module);
            register_module(i.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        }
    }

    /// <summary>The block's layers in call order.</summary>
    public IReadOnlyList<nn.Module> Layers => _layers;

    public Tensor forward(Tensor x, Tensor emb, Tensor? embS)
    {
        using var scope = NewDisposeScope();
        foreach (var layer in _layers)
            x = layer is AdmResBlock res ? res.forward(x, emb, embS) : ((nn.Module<Tensor, Tensor>)layer).call(x);
        return x.MoveToOuterDisposeScope();
    }
}
