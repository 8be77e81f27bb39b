using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ctm.Core.Schedules;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Sampling;

/// <summary>
/// Ancestral sampling with Euler steps (k-diffusion <c>sample_euler_ancestral</c>; official <c>sampler='ancestral'</c>) on
/// any <see cref="IDenoiser"/> — for a CTM model, its diagonal g(x, σ, σ): a stochastic (SDE) sampler, the
/// counterpart of <see cref="DiffusionSampler"/>'s deterministic ODE solvers.
/// </summary>
/// <remarks>
/// <para>A step from σ to σ' splits σ' into σ_up = min(σ', η·√(σ'²(σ² − σ'²)/σ²)) and σ_down = √(σ'² − σ_up²): an Euler
/// step of the probability-flow ODE down to σ_down, x ← x + (σ_down − σ)·(x − D(x, σ))/σ, then fresh noise
/// x ← x + σ_up·z. η = 1 is DDPM's ancestral step, η = 0 plain Euler. A step to σ' = 0 returns D(x, σ).</para>
/// <para>Cost: one denoiser evaluation per step, so NFE = steps (= <c>timeGrid.Count − 1</c>); weak (in-distribution)
/// error O(h). Stateless apart from the bound denoiser, sample shape and η; the default grid is the denoiser's schedule
/// (σ_min, σ_max, ρ = <see cref="IDenoiser.Rho"/>); randomness only from the generator argument. Runs under
/// <c>torch.no_grad()</c>. The sample count is a <see cref="long"/>, so a <see cref="long"/> n never binds to the
/// <see cref="Tensor"/> overload.</para>
/// </remarks>
public sealed class AncestralEulerSampler
{
    private readonly long[] _sampleShape;

    /// <summary>Creates a sampler.</summary>
    /// <param name="denoiser">Teacher, CTM model (its diagonal is used) or analytic model (borrowed).</param>
    /// <param name="sampleShape">Shape of one sample.</param>
    /// <param name="eta">η ∈ [0, 1], the share of each step's variance re-drawn as fresh noise (1 = ancestral).</param>
    /// <exception cref="ArgumentException"><paramref name="sampleShape"/> does not fit the denoiser (checked by one probe
    /// forward pass on a zero batch).</exception>
    public AncestralEulerSampler(IDenoiser denoiser, long[] sampleShape, double eta = 1.0)
    {
        Denoiser = denoiser ?? throw new ArgumentNullException(nameof(denoiser));
        if (sampleShape is null || sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
            throw new ArgumentException("sampleShape must list the positive sizes of one sample, e.g. [2] or [1, 28, 28].", nameof(sampleShape));
        if (!(eta >= 0 && eta <= 1)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "η must lie in [0, 1]: 1 = ancestral (DDPM-like), 0 = plain Euler.");
        _sampleShape = (long[])sampleShape.Clone();
        Eta = eta;
        SampleShapeProbe.Check(denoiser, _sampleShape, nameof(sampleShape));
    }

    /// <summary>Creates a sampler from options (dependency injection: <see cref="SamplerOptions.SampleShape"/>).</summary>
    /// <param name="denoiser">The denoiser (borrowed).</param>
    /// <param name="options">Sample shape.</param>
    /// <param name="eta">η ∈ [0, 1].</param>
    public AncestralEulerSampler(IDenoiser denoiser, IOptions<SamplerOptions> options, double eta = 1.0)
        : this(denoiser, SamplerOptions.Checked(options).SampleShape, eta) { }

    /// <summary>The denoiser sampled from.</summary>
    public IDenoiser Denoiser { get; }

    /// <summary>η.</summary>
    public double Eta { get; }

    /// <summary>Shape of one sample.</summary>
    public IReadOnlyList<long> SampleShape => _sampleShape;

    /// <summary>
    /// Draws <paramref name="n"/> samples with <paramref name="steps"/> steps on EDM's grid: <paramref name="steps"/>
    /// Karras points of the denoiser's schedule followed by 0. NFE = <paramref name="steps"/>.
    /// </summary>
    /// <param name="n">Number of samples, ≥ 1.</param>
    /// <param name="steps">Steps, ≥ 1 (1 = a single step from σ_max to 0, i.e. D(x_T, σ_max)).</param>
    /// <param name="labels">Class ids [n] or null.</param>
    /// <param name="generator">Source of all noise.</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public Tensor Sample(long n, int steps, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (steps < 1 || steps > KarrasSchedule.MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps (one denoiser evaluation each) must lie in [1, {KarrasSchedule.MaxSteps}].");
        return Sample(n, KarrasSchedule.EdmGrid(steps, Denoiser.SigmaMin, Denoiser.SigmaMax, Denoiser.Rho), labels, generator, progress, cancellationToken);
    }

    /// <summary>
    /// Draws <paramref name="n"/> samples along an explicit grid (strictly descending; may end at 0).
    /// NFE = <c>timeGrid.Count − 1</c>.
    /// </summary>
    /// <param name="n">Number of samples, ≥ 1.</param>
    /// <param name="timeGrid">Times from σ_max (or below) down to σ_min or 0.</param>
    /// <param name="labels">Class ids [n] or null.</param>
    /// <param name="generator">Source of all noise.</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public Tensor Sample(long n, IReadOnlyList<double> timeGrid, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n (the number of samples) must be at least 1.");
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        KarrasSchedule.Validate(timeGrid.ToArray(), Denoiser.SigmaMin, Denoiser.SigmaMax, allowFinalZero: true, nameof(timeGrid));
        if (generator is not null) Noise.CheckGenerator(generator, nameof(generator));
        var gen = generator ?? Noise.FreshGenerator();
        try
        {
            using var scope = NewDisposeScope();
            var xT = Noise.StartingPoint(Denoiser, n, _sampleShape, timeGrid[0], gen);   // x_T = t_0·z
            return Sample(xT, timeGrid, labels, gen, progress, cancellationToken).MoveToOuterDisposeScope();
        }
        finally
        {
            if (generator is null) gen.Dispose();
        }
    }

    /// <summary>Runs the sampler from x_T (the state at timeGrid[0]) along the grid. NFE = <c>timeGrid.Count − 1</c>.</summary>
    /// <param name="xT">Starting state [B, …] (borrowed).</param>
    /// <param name="timeGrid">Times from high to low; may end at 0.</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="generator">Source of the per-step noise (a fresh random one when null).</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public Tensor Sample(Tensor xT, IReadOnlyList<double> timeGrid, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (xT is null) throw new ArgumentNullException(nameof(xT));
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        var sigma = timeGrid.ToArray();
        KarrasSchedule.Validate(sigma, Denoiser.SigmaMin, Denoiser.SigmaMax, allowFinalZero: true, nameof(timeGrid));
        TensorGuard.Batch(xT, Denoiser.Device, nameof(xT));
        TensorGuard.DType(xT, Denoiser.DType, nameof(xT));
        TensorGuard.SampleShape(xT, _sampleShape, nameof(xT));
        TensorGuard.Labels(labels, xT.shape[0], Denoiser.NumClasses, Denoiser.Device);
        if (generator is not null) Noise.CheckGenerator(generator, nameof(generator));
        var gen = generator ?? Noise.FreshGenerator();
        try
        {
            using var noGrad = no_grad();
            var x = xT.alias();
            for (int i = 0; i < sigma.Length - 1; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double s = sigma[i], sNext = sigma[i + 1];
                using (var scope = NewDisposeScope())
                {
                    var d = Denoiser.Denoise(x, s, labels);                                      // 1. D(x, σ)
                    Tensor next;
                    if (sNext == 0) next = d;                                                    // last step to 0: the denoised state
                    else
                    {
                        double up = Math.Min(sNext, Eta * Math.Sqrt(sNext * sNext * (s * s - sNext * sNext) / (s * s)));
                        double down = Math.Sqrt(sNext * sNext - up * up);
                        next = x + (down - s) / s * (x - d);                                     // 2. Euler step to σ_down
                        if (up > 0) next = next + up * Noise.Normal(x.shape, x.dtype, x.device, gen);  // 3. fresh noise σ_up
                    }
                    next.MoveToOuterDisposeScope();
                    x.Dispose();
                    x = next;
                }
                progress?.Report(new SamplingProgress(i + 1, sigma.Length - 1, s, sNext, i + 1));
            }
            return x;
        }
        finally
        {
            if (generator is null) gen.Dispose();
        }
    }
}
