using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// CTM's (t, u, s) draws on the Karras training grid (official <c>get_num_heun_step</c>, <c>UniformSampler.sample_t/sample_s</c>).
/// </summary>
/// <remarks>
/// Per iteration one k ∈ {1..K} (P(k) ∝ k, or uniform); per sample t-index n ~ U{0..N−1−k}, u-index n + k,
/// s-index m ~ U{n+k..N−1}. So s ≤ u &lt; t, all on the grid; m = N−1 is s = σ_min. All randomness comes from the generator.
/// </remarks>
internal static class CtmTimeSampler
{
    /// <summary>Probabilities of k = 1..K.</summary>
    /// <param name="maxSteps">K.</param>
    /// <param name="strategy">Weighted (∝ k), uniform, or fixed at K.</param>
    public static double[] StepProbabilities(int maxSteps, HeunStepStrategy strategy)
    {
        if (maxSteps < 1) throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, "K must be ≥ 1.");
        if (strategy == HeunStepStrategy.Fixed) return Enumerable.Range(1, maxSteps).Select(k => k == maxSteps ? 1.0 : 0.0).ToArray();
        var w = Enumerable.Range(1, maxSteps).Select(k => strategy == HeunStepStrategy.Weighted ? (double)k : 1.0).ToArray();
        double total = w.Sum();
        return w.Select(v => v / total).ToArray();
    }

    /// <summary>Draws k.</summary>
    /// <param name="maxSteps">K.</param>
    /// <param name="strategy">Distribution of k.</param>
    /// <param name="generator">Source of randomness.</param>
    public static int SampleSteps(int maxSteps, HeunStepStrategy strategy, Generator generator)
    {
        if (strategy == HeunStepStrategy.Fixed) return maxSteps;
        using var scope = NewDisposeScope();
        var p = tensor(StepProbabilities(maxSteps, strategy), dtype: ScalarType.Float64, device: generator.device);
        return (int)multinomial(p, 1, replacement: true, generator: generator).item<long>() + 1;
    }

    /// <summary>Per-sample grid indices (n, n + k, m) as int64 [B] tensors on <paramref name="device"/>.</summary>
    /// <param name="batch">B.</param>
    /// <param name="gridPoints">N.</param>
    /// <param name="k">Teacher steps between t and u.</param>
    /// <param name="generator">Source of randomness.</param>
    /// <param name="device">Device of the results.</param>
    public static (Tensor T, Tensor U, Tensor S) SampleIndices(long batch, int gridPoints, int k, Generator generator, Device device)
    {
        if (k < 1 || k > gridPoints - 1) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [1, {gridPoints - 1}].");
        using var scope = NewDisposeScope();
        var gd = generator.device;
        // n ~ U{0 .. N−1−k}
        var n = (rand(new[] { batch }, dtype: ScalarType.Float64, device: gd, generator: generator) * (gridPoints - k)).floor().to_type(ScalarType.Int64);
        var u = n + k;
        // m ~ U{n+k .. N−1}: (N − n − k) choices
        var span = (gridPoints - u).to_type(ScalarType.Float64);
        var m = u + (rand(new[] { batch }, dtype: ScalarType.Float64, device: gd, generator: generator) * span).floor().to_type(ScalarType.Int64);
        return (n.to(device).MoveToOuterDisposeScope(), u.to(device).MoveToOuterDisposeScope(), m.to(device).MoveToOuterDisposeScope());
    }
}
