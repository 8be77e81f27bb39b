using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Ctm.Core.Networks;

/// <summary>
/// EDM's unified weight initialisation (<c>training/networks.py::weight_init</c>) with an explicit generator:
/// xavier_uniform = √(6/(fan_in+fan_out))·U(−1, 1), scaled by <c>init_weight</c> (weights) or <c>init_bias</c> (biases).
/// </summary>
internal static class EdmInit
{
    public static Tensor XavierUniform(long[] shape, long fanIn, long fanOut, double gain, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var u = rand(shape, dtype: ScalarType.Float32, generator: generator) * 2 - 1;
        return (u * (Math.Sqrt(6.0 / (fanIn + fanOut)) * gain)).MoveToOuterDisposeScope();
    }
}

/// <summary>EDM <c>Linear</c>: y = x·Wᵀ + b, weight [out, in] (keys <c>weight</c>, <c>bias</c>).</summary>
internal sealed class EdmLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    public EdmLinear(long inFeatures, long outFeatures, double initWeight, Generator? generator) : base("Linear")
    {
        InFeatures = inFeatures;
        weight = new Parameter(EdmInit.XavierUniform(new[] { outFeatures, inFeatures }, inFeatures, outFeatures, initWeight, generator));
        bias = new Parameter(zeros(outFeatures)); // init_bias = 0
        register_parameter("weight", weight);
        register_parameter("bias", bias);
    }

    public long InFeatures { get; }

    public override Tensor forward(Tensor x) => nn.functional.linear(x, weight, bias);
}

/// <summary>
/// EDM <c>Conv2d</c> with optional 2× up/down-sampling by a fixed separable filter (non-fused path, as DDPM++ uses):
/// keys <c>weight</c>, <c>bias</c> and, when resampling, the buffer <c>resample_filter</c>. Kernel 0 = no weights.
/// </summary>
internal sealed class EdmConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? weight;
    private readonly Parameter? bias;
    // Named like its registered buffer: TorchSharp's Module.to(device or dtype) replaces a registered tensor and
    // updates the field of the same name only, so a differently named field would keep the disposed original.
    private readonly Tensor? resample_filter;
    private Tensor? _kernel;           // the filter tiled per channel (×4 when up-sampling), for _kernelKey
    private (ScalarType, DeviceType, int) _kernelKey;
    private readonly object _kernelLock = new();
    private readonly long _in;
    private readonly bool _up, _down;

    public EdmConv2d(long inChannels, long outChannels, int kernel, double initWeight, Generator? generator,
        bool up = false, bool down = false, double[]? resampleFilter = null) : base("Conv2d")
    {
        if (up && down) throw new ArgumentException("A convolution cannot both up- and down-sample.");
        _in = inChannels;
        _up = up;
        _down = down;
        if (kernel > 0)
        {
            long fanIn = inChannels * kernel * kernel, fanOut = outChannels * kernel * kernel;
            weight = new Parameter(EdmInit.XavierUniform(new[] { outChannels, inChannels, kernel, kernel }, fanIn, fanOut, initWeight, generator));
            bias = new Parameter(zeros(outChannels));
            register_parameter("weight", weight);
            register_parameter("bias", bias);
        }
        if (up || down)
        {
            var taps = resampleFilter ?? new[] { 1.0, 1.0 };
            double sum = taps.Sum();
            using var f = tensor(taps.Select(v => (float)v).ToArray());
            // f = outer(f, f) / sum(f)²  as [1, 1, k, k]
            resample_filter = (outer(f, f) / (float)(sum * sum)).unsqueeze(0).unsqueeze(1);
            register_buffer("resample_filter", resample_filter);
        }
    }

    /// <summary>The kernel, or null for a pure resampler.</summary>
    public Parameter? Weight => weight;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        if (resample_filter is not null)
        {
            var kernel = Kernel(x);
            long fPad = (resample_filter.shape[^1] - 1) / 2;
            if (_up)
                x = nn.functional.conv_transpose2d(x, kernel, groups: _in, strides: new[] { 2L, 2L }, padding: new[] { fPad, fPad });
            if (_down)
                x = nn.functional.conv2d(x, kernel, groups: _in, strides: new[] { 2L, 2L }, padding: new[] { fPad, fPad });
        }
        if (weight is not null)
        {
            long wPad = weight.shape[^1] / 2;
            x = nn.functional.conv2d(x, weight, bias, padding: new[] { wPad, wPad });
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The depthwise resampling kernel in x's dtype and device: a constant, built on first use and again only when the
    /// dtype or device changes (it was three tensor operations per call).
    /// </summary>
    private Tensor Kernel(Tensor x)
    {
        var key = (x.dtype, x.device_type, x.device_index);
        lock (_kernelLock) // samplers may share a network across threads
        {
            if (_kernel is null || _kernel.IsInvalid || _kernelKey != key)
            {
                _kernel?.Dispose();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var f = resample_filter!.to(x.dtype, x.device);
                _kernel = (_up ? f * 4 : f).tile(new[] { _in, 1L, 1L, 1L }).DetachFromDisposeScope();
                _kernelKey = key;
            }
            return _kernel;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _kernel?.Dispose(); _kernel = null; }
        base.Dispose(disposing);
    }
}

/// <summary>
/// EDM <c>GroupNorm</c>: min(32, C/4) groups, weight 1 and bias 0 at construction (keys <c>weight</c>, <c>bias</c>).
/// Written out because TorchSharp 0.107's <c>nn.GroupNorm</c> leaves its affine parameters uninitialised.
/// </summary>
internal sealed class EdmGroupNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long _groups;
    private readonly double _eps;

    public EdmGroupNorm(long channels, double eps) : base("GroupNorm")
    {
        _groups = SongUNetConfig.GroupsFor((int)channels);
        _eps = eps;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        register_parameter("weight", weight);
        register_parameter("bias", bias);
    }

    public override Tensor forward(Tensor x) => nn.functional.group_norm(x, _groups, weight, bias, _eps);
}
