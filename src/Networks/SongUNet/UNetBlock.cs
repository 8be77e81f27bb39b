using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// The DDPM++ residual block of <c>cm/networks.py::UNetBlock</c> (additive FiLM, <c>adaptive_scale=False</c>,
/// one attention head, skip scale √½) with CTM's s-branch: the block adds <c>affine(emb) + affine_s(emb_s)</c>.
/// </summary>
/// <remarks>Keys: norm0, conv0, affine, affine_s (student only), norm1, conv1, skip (when channels change or
/// resampling), norm2/qkv/proj (attention). Initialisation as the official code: xavier-uniform, conv1 and proj
/// scaled by 1e-5, qkv by √0.2, biases zero.</remarks>
internal sealed class UNetBlock : nn.Module
{
    private static readonly double SkipScale = Math.Sqrt(0.5);
    private const double Eps = 1e-6;

    private readonly nn.Module<Tensor, Tensor> norm0, norm1;
    private readonly EdmConv2d conv0, conv1;
    private readonly EdmLinear affine;
    private readonly EdmLinear? affine_s;
    private readonly EdmConv2d? skip;
    private readonly nn.Module<Tensor, Tensor>? norm2;
    private readonly EdmConv2d? qkv, proj;
    private readonly double _dropout;

    public UNetBlock(SongUNetLayer spec, SongUNetConfig config, Generator? generator) : base(spec.Name)
    {
        long cin = spec.InChannels, cout = spec.OutChannels;
        var filter = System.Linq.Enumerable.ToArray(config.ResampleFilter);
        InChannels = cin;
        _dropout = config.Dropout;
        norm0 = new EdmGroupNorm(cin, Eps);
        conv0 = new EdmConv2d(cin, cout, 3, 1.0, generator, spec.Up, spec.Down, filter);
        affine = new EdmLinear(config.EmbChannels, cout, 1.0, generator);
        if (config.TrajectoryBranch) affine_s = new EdmLinear(config.EmbChannels, cout, 1.0, generator);
        norm1 = new EdmGroupNorm(cout, Eps);
        conv1 = new EdmConv2d(cout, cout, 3, 1e-5, generator);
        if (cout != cin || spec.Up || spec.Down)
            skip = new EdmConv2d(cin, cout, 1, 1.0, generator, spec.Up, spec.Down, filter); // resample_proj = True → kernel 1
        if (spec.Attention)
        {
            norm2 = new EdmGroupNorm(cout, Eps);
            qkv = new EdmConv2d(cout, cout * 3, 1, Math.Sqrt(0.2), generator);
            proj = new EdmConv2d(cout, cout, 1, 1e-5, generator);
        }
        register_module("norm0", norm0);
        register_module("conv0", conv0);
        register_module("affine", affine);
        if (affine_s is not null) register_module("affine_s", affine_s);
        register_module("norm1", norm1);
        register_module("conv1", conv1);
        if (skip is not null) register_module("skip", skip);
        if (norm2 is not null) register_module("norm2", norm2);
        if (qkv is not null) register_module("qkv", qkv);
        if (proj is not null) register_module("proj", proj);
    }

    public long InChannels { get; }

    /// <summary>x [B, C_in, H, W], emb [B, E], embS [B, E] or null (teacher) → [B, C_out, H', W'].</summary>
    public Tensor forward(Tensor x, Tensor emb, Tensor? embS)
    {
        using var scope = NewDisposeScope();
        var orig = x;
        x = conv0.call(nn.functional.silu(norm0.call(x)));
        var p = affine.call(emb);
        if (affine_s is not null) p = p + affine_s.call(embS!);  // CTM: FiLM from t and from s
        x = nn.functional.silu(norm1.call(x + p.unsqueeze(2).unsqueeze(3).to(x.dtype)));
        x = conv1.call(nn.functional.dropout(x, _dropout, training));
        x = (x + (skip is not null ? skip.call(orig) : orig)) * SkipScale;

        if (qkv is not null)
        {
            long b = x.shape[0], c = x.shape[1];
            var parts = qkv.call(norm2!.call(x)).reshape(b, c, 3, -1).unbind(2); // num_heads = 1
            Tensor q = parts[0], k = parts[1], v = parts[2];
            // w = softmax(qᵀk/√c) over keys, computed in float32 as AttentionOp does
            var w = einsum("ncq,nck->nqk", q.to(ScalarType.Float32), (k / Math.Sqrt(c)).to(ScalarType.Float32)).softmax(2).to(q.dtype);
            var a = einsum("nqk,nck->ncq", w, v);
            x = (proj!.call(a.reshape(x.shape)) + x) * SkipScale;
        }
        return x.MoveToOuterDisposeScope();
    }
}
