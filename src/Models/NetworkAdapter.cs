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

    public ScalarType? DType => Module.parameters().FirstOrDefault()?.dtype;

    /// <summary>Calls the network (through <c>call</c>, so hooks run) and checks that F has x's shape.</summary>
    public Tensor Call(Tensor xIn, Tensor cNoiseT, Tensor cNoiseS, Tensor? labels)
    {
        var f = _call(xIn, cNoiseT, cNoiseS, labels);
        if (!f.shape.SequenceEqual(xIn.shape))
            throw new InvalidOperationException($"The network returned shape [{string.Join(", ", f.shape)}] for an input of shape " +
                $"[{string.Join(", ", xIn.shape)}]; a CTM/EDM network must return F with the input's shape.");
        return f;
    }
}
