using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// OpenAI's <c>timestep_embedding</c> (<c>cm/nn.py</c>): half = dim/2 frequencies f_i = exp(−ln(10000)·i/half),
/// output [cos(t·f), sin(t·f)] (cos half first), zero-padded when dim is odd. t is the raw time input (250·ln σ for CTM).
/// </summary>
internal static class AdmTimestepEmbedding
{
    public static Tensor Compute(Tensor timesteps, int dim, double maxPeriod = 10000.0)
    {
        using var scope = NewDisposeScope();
        int half = dim / 2;
        var freqs = exp(-Math.Log(maxPeriod) * arange(half, dtype: ScalarType.Float32, device: timesteps.device) / half);
        var args = timesteps.reshape(-1, 1).to_type(ScalarType.Float32) * freqs.unsqueeze(0);
        var e = cat(new[] { args.cos(), args.sin() }, 1);
        if (dim % 2 == 1) e = cat(new[] { e, zeros_like(e.narrow(1, 0, 1)) }, 1);
        return e.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// <c>GroupNorm32</c>: 32 groups, ε 1e-5, computed in float32 and cast back (keys <c>weight</c>, <c>bias</c>). Written
/// out because TorchSharp 0.107's <c>nn.GroupNorm</c> leaves its affine parameters uninitialised.
/// </summary>
internal sealed class AdmGroupNorm32 : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    public AdmGroupNorm32(long channels) : base("GroupNorm32")
    {
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        register_parameter("weight", weight);
        register_parameter("bias", bias);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.group_norm(x.to_type(ScalarType.Float32), AdmUNetConfig.GroupNormGroups,
            weight.to_type(ScalarType.Float32), bias.to_type(ScalarType.Float32), 1e-5);
        return y.to_type(x.dtype).MoveToOuterDisposeScope();
    }
}

/// <summary>The official <c>Downsample</c>: a strided 3×3 convolution (key <c>op</c>) or, without conv, 2×2 average pooling.</summary>
internal sealed class AdmDownsample : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d? op;

    public AdmDownsample(long channels, bool useConv) : base("Downsample")
    {
        if (useConv)
        {
            op = nn.Conv2d(channels, channels, 3, stride: 2, padding: 1);
            register_module("op", op);
        }
    }

    public override Tensor forward(Tensor x) => op is not null ? op.call(x) : nn.functional.avg_pool2d(x, 2, 2);
}

/// <summary>The official <c>Upsample</c>: nearest-neighbour 2×, then optionally a 3×3 convolution (key <c>conv</c>).</summary>
internal sealed class AdmUpsample : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d? conv;

    public AdmUpsample(long channels, bool useConv) : base("Upsample")
    {
        if (useConv)
        {
            conv = nn.Conv2d(channels, channels, 3, padding: 1);
            register_module("conv", conv);
        }
    }

    public override Tensor forward(Tensor x)
    {
        if (conv is null) return Nearest2x(x);
        using var scope = NewDisposeScope();
        return conv.call(Nearest2x(x)).MoveToOuterDisposeScope();
    }

    public static Tensor Nearest2x(Tensor x) =>
        nn.functional.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
}

/// <summary>
/// A container whose children get explicit state-dict names (like <c>nn.ModuleList</c> / <c>nn.Sequential</c> indices
/// in the official code), without forwarding anything itself.
/// </summary>
internal sealed class AdmContainer : nn.Module
{
    public AdmContainer(string name) : base(name) { }

    public T Add<T>(string name, T module) where T : nn.Module
    {
        register_module(name, module);
        return module;
    }
}
