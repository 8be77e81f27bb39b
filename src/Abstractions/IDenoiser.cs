using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>
/// An EDM denoiser D(x, σ) ≈ E[x_0 | x_σ = x] for the variance-exploding forward process x_σ = x_0 + σ·z.
/// Teachers, CTM models (through their diagonal g(x,σ,σ)) and the exact analytic models all implement it, so every
/// <see cref="IOdeSolver"/> runs on any of them.
/// </summary>
/// <remarks>
/// Tensor ownership: inputs are borrowed (never disposed); every returned tensor is new and owned by the caller.
/// x has the batch first: [B, …]. σ is a scalar tensor or one value per sample, shape [B].
/// </remarks>
public interface IDenoiser
{
    /// <summary>σ_min, the smallest noise level the denoiser is defined at.</summary>
    double SigmaMin { get; }

    /// <summary>σ_max, the largest noise level.</summary>
    double SigmaMax { get; }

    /// <summary>σ_data of the EDM scalings.</summary>
    double SigmaData { get; }

    /// <summary>
    /// ρ of the Karras time grids built for this model: the samplers' default grids and the CTM training grid read it
    /// here, so a model trained on one schedule is sampled on the same one (paper and official code: 7).
    /// </summary>
    double Rho { get; }

    /// <summary>The device the denoiser computes on; inputs must live there.</summary>
    Device Device { get; }

    /// <summary>The floating dtype the denoiser computes in; inputs must have it.</summary>
    ScalarType DType { get; }

    /// <summary>Number of classes for class-conditional models; 0 for unconditional ones.</summary>
    int NumClasses { get; }

    /// <summary>D(x, σ): the denoised estimate of x_0 from x_σ.</summary>
    /// <param name="x">Noisy input x_σ, shape [B, …] (borrowed).</param>
    /// <param name="sigma">Noise level(s): scalar or [B], each in [σ_min, σ_max].</param>
    /// <param name="labels">Class ids, shape [B], int64, for class-conditional models; otherwise null.</param>
    /// <returns>A new tensor shaped like <paramref name="x"/>.</returns>
    Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels = null);

    /// <summary>D(x, σ) with one σ for the whole batch.</summary>
    /// <param name="x">Noisy input x_σ (borrowed).</param>
    /// <param name="sigma">Noise level in [σ_min, σ_max].</param>
    /// <param name="labels">Class ids [B] or null.</param>
    Tensor Denoise(Tensor x, double sigma, Tensor? labels = null) => ScalarTimes.Denoise(this, x, sigma, labels);
}
