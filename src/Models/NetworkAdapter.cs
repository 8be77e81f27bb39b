using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Models;

/// <summary>
/// What the preconditioning wrappers need from a user network: a call, the network's time-input convention, and the
/// device/dtype its weights live on. The network is borrowed: the adapter never disposes or moves it.
/// </summary>
/// <remarks>The time input c_noise(σ) belongs to the network, not to the preconditioning: EDM/SongUNet networks take
/// ln(σ)/4 (the default), OpenAI's ADM takes 250·ln σ. Samplers, losses and the likelihood never see it.</remarks>
internal sealed class NetworkAdapter
{
    private readonly Func<Tensor, Tensor, Tensor, Tensor?, Tensor> _call;
    private readonly Func<Tensor, Tensor> _timeInput;

    public NetworkAdapter(nn.Module module, Func<Tensor, Tensor, Tensor, Tensor?, Tensor> call, Func<Tensor, Tensor>? timeInput = null)
    {
        Module = module ?? throw new ArgumentNullException("network");
        _call = call;
        _timeInput = timeInput ?? Preconditioning.EdmPreconditioning.CNoise;
    }

    /// <summary>c_noise(σ): the time input the network receives for σ (element-wise; a new tensor).</summary>
    public Tensor TimeInput(Tensor sigma) => _timeInput(sigma);

    public nn.Module Module { get; }

    public Device Device
    {
        get
        {
            var p = Module.parameters().FirstOrDefault();
            return p is null ? CPU : p.device;
        }
    }

    /// <summary>The dtype of the network's weights (null for a network without parameters).</summary>
    public ScalarType? WeightDType => Module.parameters().FirstOrDefault()?.dtype;

    /// <summary>
    /// The dtype the model works in around the network: the weights' dtype, except float32 for bfloat16/float16
    /// weights (reduced-precision inference: the preconditioning, the sampler state and the ODE stay float32; only
    /// the network runs in the weights' dtype).
    /// </summary>
    public ScalarType? DType => WeightDType is { } w && IsReduced(w) ? ScalarType.Float32 : WeightDType;

    /// <summary>bfloat16 and float16: the dtypes whose networks the adapter runs behind float32 casts.</summary>
    public static bool IsReduced(ScalarType dtype) => dtype is ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>
    /// Calls the network (through <c>call</c>, so hooks run) and checks that F has x's shape. A network with
    /// bfloat16/float16 weights gets its inputs cast to that dtype and F cast back to x_in's dtype.
    /// </summary>
    public Tensor Call(Tensor xIn, Tensor cNoiseT, Tensor cNoiseS, Tensor? labels)
    {
        Tensor f;
        if (WeightDType is { } w && IsReduced(w) && xIn.dtype != w)
        {
            using var scope = NewDisposeScope();
            f = _call(xIn.to_type(w), cNoiseT.to_type(w), cNoiseS.to_type(w), labels).to_type(xIn.dtype).MoveToOuterDisposeScope();
        }
        else
        {
            f = _call(xIn, cNoiseT, cNoiseS, labels);
        }
        if (!f.shape.SequenceEqual(xIn.shape))
            throw new InvalidOperationException($"The network returned shape [{string.Join(", ", f.shape)}] for an input of shape " +
                $"[{string.Join(", ", xIn.shape)}]; a CTM/EDM network must return F with the input's shape.");
        return f;
    }
}
