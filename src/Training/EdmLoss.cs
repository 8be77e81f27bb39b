using System;
using Ctm.Core.Preconditioning;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// EDM denoising score matching for the teacher (Karras et al. 2022, <c>training/loss.py::EDMLoss</c>):
/// ln σ ~ N(P_mean, P_std²), x_σ = x_0 + σ·n, loss λ(σ)·‖D(x_σ, σ) − x_0‖² with λ(σ) = (σ² + σ_d²)/(σ·σ_d)².
/// </summary>
public static class EdmLoss
{
    /// <summary>
    /// Per-sample loss [B] (mean over non-batch dims). σ is clamped to the denoiser's [σ_min, σ_max] (a mass of
    /// ≈1.6e-5 under the default law) so that any <see cref="IDenoiser"/> accepts it.
    /// </summary>
    /// <param name="denoiser">The denoiser being trained.</param>
    /// <param name="x0">Clean data [B, …] (borrowed).</param>
    /// <param name="generator">Source of σ and noise.</param>
    /// <param name="labels">Class ids or null.</param>
    /// <param name="pMean">P_mean (−1.2).</param>
    /// <param name="pStd">P_std (1.2).</param>
    public static Tensor PerSample(IDenoiser denoiser, Tensor x0, Generator generator, Tensor? labels = null, double pMean = -1.2, double pStd = 1.2)
    {
        if (denoiser is null) throw new ArgumentNullException(nameof(denoiser));
        if (x0 is null) throw new ArgumentNullException(nameof(x0));
        Sampling.Noise.CheckGenerator(generator, nameof(generator));
        if (!double.IsFinite(pMean)) throw new ArgumentOutOfRangeException(nameof(pMean), pMean, "pMean must be finite (EDM: −1.2).");
        if (!(pStd > 0) || !double.IsFinite(pStd)) throw new ArgumentOutOfRangeException(nameof(pStd), pStd, "pStd must be finite and > 0 (EDM: 1.2).");
        TensorGuard.Batch(x0, denoiser.Device, nameof(x0));
        TensorGuard.DType(x0, denoiser.DType, nameof(x0));
        TensorGuard.Labels(labels, x0.shape[0], denoiser.NumClasses, denoiser.Device);
        using var scope = NewDisposeScope();
        long b = x0.shape[0];
        var sigma = (Sampling.Noise.Normal(new[] { b }, ScalarType.Float64, x0.device, generator) * pStd + pMean).exp()
            .clamp(denoiser.SigmaMin, denoiser.SigmaMax).to_type(x0.dtype);
        return WeightedError(new Models.UncheckedDenoiser(denoiser), x0, sigma, generator, labels, denoiser.SigmaData).MoveToOuterDisposeScope();
    }

    /// <summary>λ(σ)·mean((D(x_0 + σn, σ) − x_0)²) per sample, for given per-sample σ [B].</summary>
    /// <param name="denoiser">The denoiser.</param>
    /// <param name="x0">Clean data (borrowed).</param>
    /// <param name="sigma">Per-sample σ [B] in x0's dtype.</param>
    /// <param name="generator">Source of the noise n.</param>
    /// <param name="labels">Class ids or null.</param>
    /// <param name="sigmaData">σ_d of the weighting.</param>
    public static Tensor WeightedError(IDenoiser denoiser, Tensor x0, Tensor sigma, Generator generator, Tensor? labels, double sigmaData)
    {
        using var scope = NewDisposeScope();
        var sb = TimeBroadcast.ToBatch(sigma, x0);
        var noise = Sampling.Noise.Normal(x0.shape, x0.dtype, x0.device, generator);
        var d = denoiser.Denoise(x0 + sb * noise, sigma, labels);
        var err = (d - x0).square().flatten(1).mean(new long[] { 1 });
        return (EdmPreconditioning.LossWeight(sigma, sigmaData) * err).MoveToOuterDisposeScope();
    }
}
