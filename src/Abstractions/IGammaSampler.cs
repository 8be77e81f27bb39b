using System;
using System.Collections.Generic;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>
/// CTM's γ-sampling (Kim et al. 2024, Algorithm 1 / official <c>karras_sample</c>): jump with G from t_n towards
/// √(1−γ²)·t_{n+1}, then re-noise up to t_{n+1}. γ = 0 is the deterministic long-jump sampler, γ = 1 the
/// consistency-model multistep sampler.
/// </summary>
/// <remarks>
/// <para>Cost: one network evaluation per jump, so every call's NFE is its number of jumps (<c>steps</c>, or
/// <c>timeGrid.Count − 1</c>).</para>
/// <para>Every overload returns one new tensor owned by the caller and disposes everything else it made. Randomness
/// comes only from the <c>generator</c> argument; with none, a fresh generator with a random seed is used. The sample
/// count is a <see cref="long"/> so that <c>Sample(n, …)</c> with a <see cref="long"/> n binds here and not to the
/// <see cref="Tensor"/> overloads through TorchSharp's implicit long → Tensor conversion.</para>
/// </remarks>
public interface IGammaSampler
{
    /// <summary>The model sampled from.</summary>
    ITrajectoryModel Model { get; }

    /// <summary>Shape of one sample (without the batch dimension).</summary>
    IReadOnlyList<long> SampleShape { get; }

    /// <summary>
    /// Draws <paramref name="n"/> samples with <paramref name="steps"/> jumps on the Karras sampling grid of the
    /// model's schedule (σ_max → σ_min, ρ = <see cref="IDenoiser.Rho"/>). NFE = <paramref name="steps"/>.
    /// </summary>
    /// <param name="n">Number of samples, ≥ 1.</param>
    /// <param name="gamma">γ ∈ [0, 1].</param>
    /// <param name="steps">Number of jumps, ≥ 1; each costs one network evaluation.</param>
    /// <param name="labels">Class ids [n] for class-conditional models; otherwise null.</param>
    /// <param name="generator">Source of all noise (x_T and re-noising).</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    Tensor Sample(long n, double gamma, int steps, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Draws <paramref name="n"/> samples along an explicit time grid (strictly descending, within [σ_min, σ_max]).
    /// NFE = <c>timeGrid.Count − 1</c>.
    /// </summary>
    /// <param name="n">Number of samples, ≥ 1.</param>
    /// <param name="gamma">γ ∈ [0, 1].</param>
    /// <param name="timeGrid">Jump times t_0 &gt; … &gt; t_N, within [σ_min, σ_max].</param>
    /// <param name="labels">Class ids [n] or null.</param>
    /// <param name="generator">Source of all noise.</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    Tensor Sample(long n, double gamma, IReadOnlyList<double> timeGrid, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs γ-sampling from a given x_T at σ_max with <paramref name="steps"/> jumps on the model's Karras grid.
    /// NFE = <paramref name="steps"/>.
    /// </summary>
    /// <param name="xT">Starting state [B, …] at σ_max, e.g. σ_max·z (borrowed).</param>
    /// <param name="gamma">γ ∈ [0, 1].</param>
    /// <param name="steps">Number of jumps, ≥ 1.</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="generator">Source of the re-noising noise (unused when γ = 0).</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    Tensor Sample(Tensor xT, double gamma, int steps, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Runs γ-sampling from a given x_T (the state at timeGrid[0]). NFE = <c>timeGrid.Count − 1</c>.</summary>
    /// <param name="xT">Starting state [B, …] at time timeGrid[0] (borrowed).</param>
    /// <param name="gamma">γ ∈ [0, 1].</param>
    /// <param name="timeGrid">Jump times t_0 &gt; … &gt; t_N, within [σ_min, σ_max].</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="generator">Source of the re-noising noise (unused when γ = 0).</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    Tensor Sample(Tensor xT, double gamma, IReadOnlyList<double> timeGrid, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default);
}
