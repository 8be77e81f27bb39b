using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Diagnostics;

/// <summary>
/// Fréchet distance between Gaussians fitted to two feature sets (the FID formula with any feature extractor):
/// FD = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^{½} Σ₂ Σ₁^{½})^{½}), computed in float64 with symmetric eigendecompositions.
/// </summary>
/// <remarks>Inputs are borrowed. The estimate is biased upwards for small samples, so compare models at equal N.</remarks>
public static class FrechetDistance
{
    /// <summary>FD between feature sets [N, d] and [M, d] (N, M ≥ 2).</summary>
    /// <param name="a">First features (borrowed).</param>
    /// <param name="b">Second features (borrowed).</param>
    public static double Compute(Tensor a, Tensor b)
    {
        if (a is null) throw new ArgumentNullException(nameof(a));
        if (b is null) throw new ArgumentNullException(nameof(b));
        if (a.dim() != 2 || b.dim() != 2 || a.shape[1] != b.shape[1])
            throw new ArgumentException($"Features must be [N, d] and [M, d] with the same d, got [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}].");
        if (a.shape[0] < 2 || b.shape[0] < 2) throw new ArgumentException("Each feature set needs at least 2 rows.");
        using var scope = NewDisposeScope();
        var (mu1, s1) = Moments(a);
        var (mu2, s2) = Moments(b);
        if (!isfinite(s1).all().item<bool>() || !isfinite(s2).all().item<bool>())
            throw new ArgumentException("Features contain NaN or infinity; the generator or the feature network diverged.");
        var root1 = SqrtPsd(s1);
        var middle = root1.matmul(s2).matmul(root1);
        var eig = linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt();
        double traceRoot = eig.sum().item<double>();
        double meanTerm = (mu1 - mu2).square().sum().item<double>();
        return meanTerm + s1.trace().item<double>() + s2.trace().item<double>() - 2 * traceRoot;
    }

    /// <summary>Mean [d] and unbiased covariance [d, d] of features [N, d], in float64.</summary>
    /// <param name="features">Features (borrowed).</param>
    public static (Tensor Mean, Tensor Covariance) Moments(Tensor features)
    {
        if (features is null) throw new ArgumentNullException(nameof(features));
        using var scope = NewDisposeScope();
        var f = features.detach().to(CPU).to_type(ScalarType.Float64);
        var mu = f.mean(new long[] { 0 });
        var c = f - mu;
        var cov = c.T.matmul(c) / (f.shape[0] - 1);
        return (mu.MoveToOuterDisposeScope(), cov.MoveToOuterDisposeScope());
    }

    private static Tensor SqrtPsd(Tensor s)
    {
        var (values, vectors) = linalg.eigh((s + s.T) / 2);
        return vectors.matmul(diag(values.clamp_min(0).sqrt())).matmul(vectors.T);
    }
}
