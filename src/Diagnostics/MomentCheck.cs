using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Diagnostics;

/// <summary>
/// z-scores of sample moments against known ones: (estimate − truth)/standard error, per coordinate, for the mean
/// (SE = √(σ²/n)) and the variance (SE = √((μ₄ − s⁴)/n), μ₄ the sample's fourth central moment). |z| ≤ 3 is the
/// usual "agrees" criterion.
/// </summary>
public static class MomentCheck
{
    /// <summary>z-scores ordered [mean_0, var_0, mean_1, var_1, …].</summary>
    /// <param name="samples">Samples [n, D] (borrowed).</param>
    /// <param name="mean">True mean per coordinate.</param>
    /// <param name="variance">True variance per coordinate.</param>
    public static double[] ZScores(Tensor samples, IReadOnlyList<double> mean, IReadOnlyList<double> variance)
    {
        if (samples is null) throw new ArgumentNullException(nameof(samples));
        if (samples.dim() != 2) throw new ArgumentException($"samples must be [n, D], got rank {samples.dim()}.", nameof(samples));
        if (mean.Count != samples.shape[1] || variance.Count != samples.shape[1])
            throw new ArgumentException($"mean and variance need one entry per coordinate ({samples.shape[1]}).", nameof(mean));
        using var scope = NewDisposeScope();
        long n = samples.shape[0];
        var x = samples.to_type(ScalarType.Float64);
        var z = new double[2 * mean.Count];
        for (int d = 0; d < mean.Count; d++)
        {
            var col = x[.., d];
            double m = col.mean().item<double>();
            double v = col.var().item<double>();
            double mu4 = (col - m).pow(4).mean().item<double>();
            z[2 * d] = (m - mean[d]) / Math.Sqrt(variance[d] / n);
            z[2 * d + 1] = (v - variance[d]) / Math.Sqrt(Math.Max(mu4 - v * v, 1e-300) / n);
        }
        return z;
    }

    /// <summary>z-scores of the fractions of samples in each class against the expected probabilities.</summary>
    /// <param name="assignments">Class id per sample [n] (borrowed).</param>
    /// <param name="probabilities">Expected probability of each class.</param>
    public static double[] ProportionZScores(Tensor assignments, IReadOnlyList<double> probabilities)
    {
        if (assignments is null) throw new ArgumentNullException(nameof(assignments));
        using var scope = NewDisposeScope();
        long n = assignments.shape[0];
        var z = new double[probabilities.Count];
        for (int k = 0; k < z.Length; k++)
        {
            double frac = assignments.eq(k).sum().item<long>() / (double)n, w = probabilities[k];
            z[k] = (frac - w) / Math.Sqrt(w * (1 - w) / n);
        }
        return z;
    }
}
