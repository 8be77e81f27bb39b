using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// The official <c>AttentionBlock</c> with its legacy QKV path (<c>QKVAttentionLegacy</c> after sony/ctm PR #6):
/// qkv = 1×1 conv of GroupNorm(x); the 3C qkv channels split as (three, heads, head_dim) — the flash-attention
/// layout, so flash-trained checkpoints load — then softmax(qᵀk/√d)·v per head (q and k each scaled by d^(−1/4),
/// the softmax in float32), heads concatenated, zero-initialised 1×1 <c>proj_out</c>, and the residual x + h.
/// </summary>
/// <remarks>Keys: <c>norm</c>, <c>qkv</c> [3C, C, 1, 1], <c>proj_out</c> [C, C, 1, 1].</remarks>
internal sealed class AdmAttentionBlock : nn.Module<Tensor, Tensor>
{
    private readonly AdmGroupNorm32 norm;
    private readonly Conv2d qkv;
    private readonly Conv2d proj_out;
    private readonly int _heads;

    public AdmAttentionBlock(AdmLayer spec) : base("AttentionBlock")
    {
        if (spec.Heads < 1 || spec.OutChannels % spec.Heads != 0)
            throw new ArgumentException($"{spec.OutChannels} channels cannot be split into {spec.Heads} attention heads.", nameof(spec));
        int c = spec.OutChannels;
        _heads = spec.Heads;
        norm = new AdmGroupNorm32(c);
        qkv = nn.Conv2d(c, 3 * c, 1);
        proj_out = nn.Conv2d(c, c, 1);   // zero_module in the official code (see AdmUNet's init)
        register_module("norm", norm);
        register_module("qkv", qkv);
        register_module("proj_out", proj_out);
    }

    /// <summary>The zero-initialised output projection.</summary>
    public Conv2d ProjOut => proj_out;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], length = x.shape[2] * x.shape[3];
        long d = c / _heads;
        // [B, 3C, T] → (three, heads, head_dim): q, k, v each [B·heads, d, T]
        var parts = qkv.call(norm.call(x)).reshape(b, 3, _heads, d, length).unbind(1);
        var q = parts[0].reshape(b * _heads, d, length);
        var k = parts[1].reshape(b * _heads, d, length);
        var v = parts[2].reshape(b * _heads, d, length);
        double scale = 1.0 / Math.Sqrt(Math.Sqrt(d));   // on q and k each: more stable in fp16 than dividing afterwards
        var w = einsum("bct,bcs->bts", q * scale, k * scale);
        w = w.to_type(ScalarType.Float32).softmax(-1).to_type(w.dtype);
        var a = einsum("bts,bcs->bct", w, v).reshape(b, c, x.shape[2], x.shape[3]);
        return (x + proj_out.call(a)).MoveToOuterDisposeScope();
    }
}
