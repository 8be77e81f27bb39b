using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Diagnostics;

/// <summary>
/// The k-NN scores of a generated set against a real one: precision and recall (Kynkäänniemi et al., "Improved
/// Precision and Recall Metric for Assessing Generative Models", NeurIPS 2019) and density and coverage (Naeem et al.,
/// "Reliable Fidelity and Diversity Metrics for Generative Models", ICML 2020).
/// </summary>
/// <param name="Precision">Share of generated samples inside the real manifold (the union of the balls around each real
/// sample reaching its k-th nearest real neighbour): fidelity. Two samples of one law score ≈ 1 (slightly less).</param>
/// <param name="Recall">Share of real samples inside the generated manifold: diversity, mode coverage.</param>
/// <param name="Density">Mean number of real balls containing a generated sample, divided by k: fidelity that counts how
/// deep inside the real support each sample lies. One law: ≈ 1; samples piled on dense regions can exceed 1.</param>
/// <param name="Coverage">Share of real samples whose ball contains at least one generated sample: diversity that is
/// robust to generated outliers. One law: ≈ 1 − 2^−k (0.97 for k = 5).</param>
/// <param name="K">The k used.</param>
public readonly record struct ManifoldScores(double Precision, double Recall, double Density, double Coverage, int K);

/// <summary>
/// Computes <see cref="ManifoldScores"/> for any two [N, D] feature sets (2-D points, classifier features, …), by exact
/// nearest neighbours in Euclidean distance, block by block so memory stays at O(block · N).
/// </summary>
/// <remarks>
/// Unlike the sliced Wasserstein distance or the Fréchet distance, these scores see mass placed between the modes of a
/// law (precision and density drop) and modes left out (recall and coverage drop). Judge a model by several of them at
/// once, next to the same scores of two real sets (the floor). Cost: three distance passes (real–real, generated–generated, generated–real), O((N + M)² · D); N = M = 10,000 in 2-D
/// takes a few seconds on two cores. Inputs are borrowed; computed in float64 on the inputs' device.
/// </remarks>
public static class ManifoldMetrics
{
    /// <summary>The default neighbourhood size (both papers use k = 5).</summary>
    public const int DefaultK = 5;

    /// <summary>Precision, recall, density and coverage of <paramref name="fake"/> against <paramref name="real"/>.</summary>
    /// <param name="real">Real samples or features [N, D] (borrowed), N &gt; k.</param>
    /// <param name="fake">Generated samples or features [M, D] (borrowed), M &gt; k.</param>
    /// <param name="k">Neighbourhood size (default 5).</param>
    /// <param name="blockRows">Rows per distance block (memory ≈ blockRows · max(N, M) · 8 bytes).</param>
    /// <exception cref="ArgumentException">Shapes differ, a set has ≤ k rows, or a value is NaN/Inf.</exception>
    public static ManifoldScores Compute(Tensor real, Tensor fake, int k = DefaultK, int blockRows = 1024)
    {
        Check(real, fake, k, blockRows);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var r = real.detach().to_type(ScalarType.Float64);
        return Scores(r, KnnRadiusSquared(r, k, blockRows), fake, k, blockRows);
    }

    /// <summary>
    /// As <see cref="Compute(Tensor, Tensor, int, int)"/> with the real set's k-NN radii computed once beforehand by
    /// <see cref="KnnRadiusSquared"/> (same k), so scoring several generated sets against one real set skips a third of the work.
    /// </summary>
    /// <param name="real">Real samples or features [N, D] (borrowed), N &gt; k.</param>
    /// <param name="realRadiusSquared"><c>KnnRadiusSquared(real, k)</c>, [N] (borrowed).</param>
    /// <param name="fake">Generated samples or features [M, D] (borrowed), M &gt; k.</param>
    /// <param name="k">Neighbourhood size the radii were computed with (default 5).</param>
    /// <param name="blockRows">Rows per distance block.</param>
    /// <exception cref="ArgumentException">As the other overload, or the radii are not [N], negative or not finite.</exception>
    public static ManifoldScores Compute(Tensor real, Tensor realRadiusSquared, Tensor fake, int k = DefaultK, int blockRows = 1024)
    {
        Check(real, fake, k, blockRows);
        if (realRadiusSquared is null) throw new ArgumentNullException(nameof(realRadiusSquared));
        if (realRadiusSquared.dim() != 1 || realRadiusSquared.shape[0] != real.shape[0])
            throw new ArgumentException($"realRadiusSquared must be [{real.shape[0]}] (KnnRadiusSquared(real, k)), got [{string.Join(", ", realRadiusSquared.shape)}].", nameof(realRadiusSquared));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var r = real.detach().to_type(ScalarType.Float64);
        var radius2 = realRadiusSquared.detach().to_type(ScalarType.Float64).to(r.device);
        if (!radius2.isfinite().all().item<bool>() || radius2.lt(0).any().item<bool>())
            throw new ArgumentException("realRadiusSquared holds negative or non-finite values; pass KnnRadiusSquared(real, k).", nameof(realRadiusSquared));
        return Scores(r, radius2, fake, k, blockRows);
    }

    private static ManifoldScores Scores(Tensor r, Tensor realRadius2, Tensor fake, int k, int blockRows)
    {
        var f = fake.detach().to_type(ScalarType.Float64).to(r.device);
        var fakeRadius2 = KnnRadiusSquared(f, k, blockRows);

        // One pass over generated-row blocks against all real rows gives all four counts: per generated row, precision
        // (inside any real ball) and density (how many); per real column, recall (inside any generated ball, OR-ed over
        // blocks) and coverage (nearest generated sample, min-ed over blocks, against the real row's own ball).
        double inside = 0, balls = 0;
        var recalled = zeros(r.shape[0], dtype: ScalarType.Bool, device: r.device);
        var nearest = full(r.shape[0], double.PositiveInfinity, dtype: ScalarType.Float64, device: r.device);
        foreach (var (d2, start) in Blocks(f, r, blockRows))
        {
            using var block = NewDisposeScope();
            // Per generated row, the number of real balls holding it: precision counts rows with any, density sums them.
            // (Int32: summing booleans into Int64 takes 1.6× as long on the CPU; a count never exceeds N.)
            var count = d2.le(realRadius2.unsqueeze(0)).sum(new long[] { 1 }, type: ScalarType.Int32);
            inside += count.gt(0).sum(type: ScalarType.Int64).item<long>();
            balls += count.sum(type: ScalarType.Int64).item<long>();
            var ownRadius2 = fakeRadius2.slice(0, start, start + d2.shape[0], 1).unsqueeze(1);
            recalled.logical_or_(d2.le(ownRadius2).any(0));
            nearest.copy_(nearest.minimum(d2.amin(new long[] { 0 })));
            d2.Dispose();
        }
        double recall = recalled.sum(type: ScalarType.Float64).item<double>();
        double covered = nearest.le(realRadius2).sum(type: ScalarType.Float64).item<double>();

        long n = r.shape[0], m = f.shape[0];
        return new ManifoldScores(inside / m, recall / n, balls / (k * (double)m), covered / n, k);
    }

    /// <summary>Squared distance of every row to its k-th nearest other row, [N] float64.</summary>
    /// <param name="points">Rows [N, D] (borrowed), N &gt; k.</param>
    /// <param name="k">Neighbour rank.</param>
    /// <param name="blockRows">Rows per distance block.</param>
    public static Tensor KnnRadiusSquared(Tensor points, int k = DefaultK, int blockRows = 1024)
    {
        if (points is null) throw new ArgumentNullException(nameof(points));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be ≥ 1 (default 5).");
        if (points.dim() != 2 || points.shape[0] <= k)
            throw new ArgumentException($"points must be [N, D] with N > k = {k}; got [{string.Join(", ", points.shape)}].", nameof(points));
        using var scope = NewDisposeScope();
        var p = points.detach().to_type(ScalarType.Float64);
        var parts = new System.Collections.Generic.List<Tensor>();
        foreach (var (d2, _) in Blocks(p, p, blockRows))
        {
            // The row itself is its own nearest neighbour at distance 0: the (k + 1)-th smallest is the k-th other.
            var (values, _) = d2.topk(k + 1, dim: 1, largest: false, sorted: true);
            parts.Add(values[.., k].clone());
            d2.Dispose();
        }
        return cat(parts.ToArray()).MoveToOuterDisposeScope();
    }

    /// <summary>Squared distances of row blocks of <paramref name="a"/> to all rows of <paramref name="b"/>.</summary>
    private static System.Collections.Generic.IEnumerable<(Tensor D2, long Start)> Blocks(Tensor a, Tensor b, int blockRows)
    {
        using var bNorm = b.square().sum(new long[] { 1 }).unsqueeze(0);
        using var bT = b.T;
        long n = a.shape[0];
        for (long start = 0; start < n; start += blockRows)
        {
            long end = Math.Min(n, start + blockRows);
            using var block = a.slice(0, start, end, 1);
            using var aNorm = block.square().sum(new long[] { 1 }, keepdim: true);
            // ‖b‖² − 2a·b in one matrix call (no separate product tensor), then + ‖a‖², clamped at 0 against rounding.
            var d2 = bNorm.addmm(block, bT, beta: 1, alpha: -2).add_(aNorm).clamp_min_(0);
            yield return (d2, start);
        }
    }

    private static void Check(Tensor real, Tensor fake, int k, int blockRows)
    {
        if (real is null) throw new ArgumentNullException(nameof(real));
        if (fake is null) throw new ArgumentNullException(nameof(fake));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be ≥ 1 (both papers use 5).");
        if (blockRows < 1) throw new ArgumentOutOfRangeException(nameof(blockRows), blockRows, "blockRows must be ≥ 1.");
        if (real.dim() != 2 || fake.dim() != 2 || real.shape[1] != fake.shape[1])
            throw new ArgumentException($"real and fake must be [N, D] and [M, D] with the same D; got [{string.Join(", ", real.shape)}] and " +
                $"[{string.Join(", ", fake.shape)}]. Flatten images or pass feature vectors.", nameof(fake));
        if (real.shape[0] <= k) throw new ArgumentException($"real has {real.shape[0]} rows; k-NN radii with k = {k} need more than k.", nameof(real));
        if (fake.shape[0] <= k) throw new ArgumentException($"fake has {fake.shape[0]} rows; k-NN radii with k = {k} need more than k.", nameof(fake));
        if (!real.is_floating_point() || !fake.is_floating_point())
            throw new ArgumentException("real and fake must be floating-point tensors.", real.is_floating_point() ? nameof(fake) : nameof(real));
        TensorGuard.Finite(real, nameof(real));
        TensorGuard.Finite(fake, nameof(fake));
    }
}
