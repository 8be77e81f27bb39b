using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Diagnostics;

/// <summary>
/// Sliced Wasserstein-2 distance between two equally sized point clouds: √(mean over random unit directions θ of
/// W₂²(θ·a, θ·b)), each 1-D W₂ computed by sorting. Compare a model's value with the noise floor of two fresh data sets.
/// </summary>
/// <remarks>
/// The estimate is dominated by the outermost quantiles and converges slowly: two fresh sets of 10,000 points of a
/// ring of eight narrow Gaussians score 0.035 ± 0.010 against each other, of 50,000 points 0.022 ± 0.006. To rank two
/// samplers that differ by a few percent, score both on the same reference with tens of thousands of points.
/// </remarks>
public static class SlicedWasserstein
{
    /// <summary>SW₂(a, b) with <paramref name="projections"/> directions from <paramref name="generator"/>.</summary>
    /// <param name="a">Points [n, D] (borrowed).</param>
    /// <param name="b">Points [n, D] (borrowed), same n.</param>
    /// <param name="generator">Source of the directions.</param>
    /// <param name="projections">Number of directions.</param>
    public static double Distance(Tensor a, Tensor b, Generator generator, int projections = 256)
    {
        if (a is null) throw new ArgumentNullException(nameof(a));
        if (b is null) throw new ArgumentNullException(nameof(b));
        if (a.dim() != 2 || b.dim() != 2 || a.shape[1] != b.shape[1] || a.shape[0] != b.shape[0])
            throw new ArgumentException($"a and b must both be [n, D] with the same n and D; got [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}].", nameof(b));
        if (projections < 1) throw new ArgumentOutOfRangeException(nameof(projections), projections, "Use at least one projection.");
        using var scope = NewDisposeScope();
        var dirs = Sampling.Noise.Normal(new[] { a.shape[1], (long)projections }, ScalarType.Float64, a.device, generator);
        dirs = dirs / dirs.norm(0, keepdim: true);
        // [P, n] projections (θᵀ xᵀ) so each direction's values are contiguous for the sort.
        var pa = dirs.T.matmul(a.to_type(ScalarType.Float64).T).sort(1).Values;
        var pb = dirs.T.matmul(b.to_type(ScalarType.Float64).T).sort(1).Values;
        return (pa - pb).square().mean().sqrt().item<double>();
    }
}
