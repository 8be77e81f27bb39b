using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Diagnostics;

/// <summary>How well samples sit on the support of a law whose log-density is known.</summary>
/// <param name="OffSupportFraction">Share of samples whose true log p lies below <see cref="Threshold"/>, the
/// <see cref="Quantile"/> quantile of log p over fresh data samples; data itself scores ≈ <see cref="Quantile"/>.</param>
/// <param name="MeanLogP">Mean true log p of the samples (nats).</param>
/// <param name="DataMeanLogP">Mean true log p of the fresh data samples, the value a perfect sampler approaches.</param>
/// <param name="Threshold">The log p cut-off.</param>
/// <param name="Quantile">The quantile of the data's log p used as the cut-off (default 0.01).</param>
public readonly record struct SupportScores(double OffSupportFraction, double MeanLogP, double DataMeanLogP, double Threshold, double Quantile);

/// <summary>
/// The off-support fraction: for laws with a known density (2-D test sets, <see cref="Analytic.AnalyticModel"/>s), the
/// share of samples landing where the data almost never does — below the 1 % quantile of log p over fresh data. It
/// catches what distances over 1-D projections miss: mass spread between the modes of a mixture, haze over the empty
/// squares of a checkerboard.
/// </summary>
public static class SupportCheck
{
    /// <summary>The default quantile of the data's log p that marks the edge of the support.</summary>
    public const double DefaultQuantile = 0.01;

    /// <summary>Scores <paramref name="samples"/> against fresh <paramref name="data"/> with the law's log-density.</summary>
    /// <param name="logDensity">x [N, D] → log p(x) [N] (e.g. <c>x =&gt; model.LogDensity(x)</c>); its result is disposed here.</param>
    /// <param name="samples">Generated samples [N, D] (borrowed).</param>
    /// <param name="data">Fresh samples of the law [M, D] (borrowed), independent of any training data; M ≥ 1/quantile.</param>
    /// <param name="quantile">Quantile of the data's log p below which a sample counts as off the support.</param>
    public static SupportScores Compute(Func<Tensor, Tensor> logDensity, Tensor samples, Tensor data, double quantile = DefaultQuantile)
    {
        if (logDensity is null) throw new ArgumentNullException(nameof(logDensity));
        if (samples is null) throw new ArgumentNullException(nameof(samples));
        if (data is null) throw new ArgumentNullException(nameof(data));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ls = logDensity(samples);
        var ld = logDensity(data);
        return FromLogDensities(ls, ld, quantile);
    }

    /// <summary>The same scores from log-densities already computed.</summary>
    /// <param name="sampleLogP">log p of the generated samples [N] (borrowed); −∞ counts as off the support.</param>
    /// <param name="dataLogP">log p of fresh data samples [M] (borrowed), finite, M ≥ 1/quantile.</param>
    /// <param name="quantile">Quantile in (0, 1).</param>
    public static SupportScores FromLogDensities(Tensor sampleLogP, Tensor dataLogP, double quantile = DefaultQuantile)
    {
        if (sampleLogP is null) throw new ArgumentNullException(nameof(sampleLogP));
        if (dataLogP is null) throw new ArgumentNullException(nameof(dataLogP));
        if (!(quantile > 0 && quantile < 1))
            throw new ArgumentOutOfRangeException(nameof(quantile), quantile, "quantile must lie in (0, 1); the default 0.01 marks the outer 1 % of the data.");
        if (sampleLogP.dim() != 1 || sampleLogP.shape[0] < 1)
            throw new ArgumentException($"sampleLogP must be a non-empty vector [N]; got [{string.Join(", ", sampleLogP.shape)}].", nameof(sampleLogP));
        if (dataLogP.dim() != 1 || dataLogP.shape[0] * quantile < 1)
            throw new ArgumentException($"dataLogP must be a vector [M] with M ≥ 1/quantile = {Math.Ceiling(1 / quantile)} so the quantile is resolved; " +
                $"got [{string.Join(", ", dataLogP.shape)}].", nameof(dataLogP));
        using var scope = NewDisposeScope();
        var ls = sampleLogP.detach().to_type(ScalarType.Float64);
        var ld = dataLogP.detach().to_type(ScalarType.Float64);
        if (ls.isnan().any().item<bool>()) throw new ArgumentException("sampleLogP contains NaN: the samples or the density diverged.", nameof(sampleLogP));
        if (!ld.isfinite().all().item<bool>()) throw new ArgumentException("dataLogP must be finite: fresh data always has a finite log-density.", nameof(dataLogP));
        double threshold = ld.quantile(quantile).item<double>();
        double off = ls.lt(threshold).to_type(ScalarType.Float64).mean().item<double>();
        return new SupportScores(off, ls.mean().item<double>(), ld.mean().item<double>(), threshold, quantile);
    }
}
