using System;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

internal static class TensorAssert
{
    public static void Close(Tensor expected, Tensor actual, double rtol = 1e-5, double atol = 1e-8)
    {
        Assert.Equal(expected.shape, actual.shape);
        if (!expected.allclose(actual, rtol, atol))
        {
            using var diff = (expected - actual).abs().max();
            Assert.Fail($"tensors differ: max |Δ| = {diff.to_type(ScalarType.Float64).item<double>():E3} (rtol {rtol}, atol {atol})");
        }
    }

    public static double Max(Tensor t) { using var m = t.max(); return m.to_type(ScalarType.Float64).item<double>(); }
}
