using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>Turns scalar or per-sample times into tensors that broadcast against a batch x of shape [B, …].</summary>
internal static class TimeBroadcast
{
    /// <summary>
    /// Times as a vector [B] in x's dtype and device (a scalar is repeated B times). Input is borrowed.
    /// </summary>
    /// <param name="t">Scalar or [B] times.</param>
    /// <param name="x">The batch the times belong to.</param>
    public static Tensor ToVector(Tensor t, Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0];
        var v = t.to(x.dtype, x.device);
        v = v.dim() == 0 ? v.expand(b).contiguous() : v.reshape(b);
        return v.MoveToOuterDisposeScope();
    }

    /// <summary>Times reshaped to [B, 1, …, 1] (rank of x) in x's dtype and device. Input is borrowed.</summary>
    /// <param name="t">Scalar or [B] times.</param>
    /// <param name="x">The batch the times belong to.</param>
    public static Tensor ToBatch(Tensor t, Tensor x)
    {
        using var scope = NewDisposeScope();
        var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        shape[0] = x.shape[0];
        return ToVector(t, x).reshape(shape).MoveToOuterDisposeScope();
    }
}
