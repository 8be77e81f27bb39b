using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Models;

/// <summary>
/// What the preconditioning wrappers need from a user network: a call, and the device/dtype its weights live on.
/// The network is borrowed: the adapter never disposes or moves it.
/// </summary>
internal sealed class NetworkAdapter
{
    private readonly Func<Tensor, Tensor, Tensor, Tensor?, Tensor> _call;

    public NetworkAdapter(nn.Module module, Func<Tensor, Tensor, Tensor, Tensor?, Tensor> call)
    {
        Module = module ?? throw new ArgumentNullException("network");
        _call = call;
    }

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
