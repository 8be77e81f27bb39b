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

    /// <summary>
    /// Asserts max|expected − actual| ≤ relTol·max|expected| (and allclose with that tolerance), logs the figures and
    /// returns the relative error: the fixture comparisons against official PyTorch outputs.
    /// </summary>
    public static double RelativeClose(string what, Tensor expected, Tensor actual, double relTol, Action<string> log)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        double scale = expected.abs().max().to_type(ScalarType.Float64).item<double>();
        double maxErr = (expected - actual).abs().max().to_type(ScalarType.Float64).item<double>();
        double rel = maxErr / scale;
        log($"{what}: max |Δ| = {maxErr:E3}, max |ref| = {scale:F4}, relative {rel:E3}");
        Assert.True(rel <= relTol, $"{what}: relative error {rel:E3} > {relTol:E0} (max |Δ| {maxErr:E3})");
        Assert.True(expected.allclose(actual, relTol, relTol * scale), $"{what}: not allclose(rtol {relTol}, atol {relTol * scale:E2})");
        return rel;
    }

    public static double Max(Tensor t) { using var m = t.max(); return m.to_type(ScalarType.Float64).item<double>(); }
}
