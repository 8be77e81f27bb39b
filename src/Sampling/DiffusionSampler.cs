using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ctm.Core.Schedules;
using Ctm.Core.Solvers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Sampling;

/// <summary>
/// Score-based (probability-flow ODE) sampling of any <see cref="IDenoiser"/> with an <see cref="IOdeSolver"/>:
/// the teacher's Heun sampler, or a CTM model used as a plain diffusion model through its diagonal g(x, t, t)
/// (official <c>sample_heun</c> with <c>ctm=True</c>).
/// </summary>
/// <remarks>
/// <para>Cost: a solver step costs <see cref="IOdeSolver.EvaluationsPerStep"/> network evaluations, except a step that
/// lands on σ = 0, which is a single Euler evaluation. So on EDM's grid (ending at 0) Heun uses 2·steps − 1 NFE
/// (18 steps = the 35-NFE EDM sampler) and Euler uses steps NFE.</para>
/// <para>Stateless apart from its bound denoiser, solver and sample shape. Runs under <c>torch.no_grad()</c>. The
/// sample count is a <see cref="long"/> so that a <see cref="long"/> n never binds to the <see cref="Tensor"/> overload
/// through TorchSharp's implicit conversion.</para>
/// </remarks>
public sealed partial class DiffusionSampler
{
    private readonly long[] _sampleShape;
    private readonly ILogger _logger;

    /// <summary>Creates a sampler.</summary>
    /// <param name="denoiser">Teacher, CTM model (its diagonal is used) or analytic model (borrowed). Its schedule
    /// (σ_min, σ_max, ρ) defines the default grid.</param>
    /// <param name="sampleShape">Shape of one sample.</param>
    /// <param name="solver">The ODE solver; <see cref="HeunSolver"/> by default.</param>
    /// <param name="logger">Logger; defaults to <see cref="NullLogger.Instance"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="sampleShape"/> does not fit the denoiser (checked by one probe
    /// forward pass on a zero batch).</exception>
    public DiffusionSampler(IDenoiser denoiser, long[] sampleShape, IOdeSolver? solver = null, ILogger<DiffusionSampler>? logger = null)
    {
        Denoiser = denoiser ?? throw new ArgumentNullException(nameof(denoiser));
        if (sampleShape is null || sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
            throw new ArgumentException("sampleShape must list the positive sizes of one sample, e.g. [2] or [1, 28, 28].", nameof(sampleShape));
        _sampleShape = (long[])sampleShape.Clone();
        Solver = solver ?? HeunSolver.Instance;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        SampleShapeProbe.Check(denoiser, _sampleShape, nameof(sampleShape));
    }

    /// <summary>Creates a sampler from options (dependency injection: <see cref="SamplerOptions.SampleShape"/>).</summary>
    /// <param name="denoiser">The denoiser (borrowed).</param>
    /// <param name="options">Sample shape.</param>
    /// <param name="solver">The ODE solver; <see cref="HeunSolver"/> by default.</param>
    /// <param name="logger">Logger; defaults to <see cref="NullLogger.Instance"/>.</param>
    public DiffusionSampler(IDenoiser denoiser, IOptions<SamplerOptions> options, IOdeSolver? solver = null, ILogger<DiffusionSampler>? logger = null)
        : this(denoiser, SamplerOptions.Checked(options).SampleShape, solver, logger) { }

    /// <summary>The denoiser sampled from.</summary>
    public IDenoiser Denoiser { get; }

    /// <summary>The ODE solver.</summary>
    public IOdeSolver Solver { get; }

    /// <summary>Shape of one sample.</summary>
    public IReadOnlyList<long> SampleShape => _sampleShape;

    /// <summary>
    /// Draws <paramref name="n"/> samples with <paramref name="steps"/> solver steps on EDM's grid: <paramref name="steps"/>
    /// Karras points of the denoiser's schedule followed by 0 (Karras et al. 2022, Algorithm 1). NFE with Heun:
    /// 2·steps − 1 (steps = 18 is the 35-NFE EDM sampler); with Euler: steps.
    /// </summary>
    /// <param name="n">Number of samples, ≥ 1.</param>
    /// <param name="steps">Solver steps, ≥ 1 (1 = a single Euler step from σ_max to 0).</param>
    /// <param name="labels">Class ids [n] or null.</param>
    /// <param name="generator">Source of x_T.</param>
    /// <param name="progress">Optional per-step progress (its <see cref="SamplingProgress.Evaluations"/> counts NFE).</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public Tensor Sample(long n, int steps, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (steps < 1 || steps > KarrasSchedule.MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps (solver steps; Heun NFE = 2·steps − 1) must lie in [1, {KarrasSchedule.MaxSteps}].");
        var grid = KarrasSchedule.EdmGrid(steps, Denoiser.SigmaMin, Denoiser.SigmaMax, Denoiser.Rho);
        return Sample(n, grid, labels, generator, progress, cancellationToken);
    }

    /// <summary>
    /// Draws <paramref name="n"/> samples along an explicit grid (strictly descending; may end at 0). NFE: see the
    /// class remarks (Heun: 2 per step, 1 for a step to 0).
    /// </summary>
    /// <param name="n">Number of samples, ≥ 1.</param>
    /// <param name="timeGrid">Times from σ_max (or below) down to σ_min or 0.</param>
    /// <param name="labels">Class ids [n] or null.</param>
    /// <param name="generator">Source of x_T.</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public Tensor Sample(long n, IReadOnlyList<double> timeGrid, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n (the number of samples) must be at least 1.");
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        var grid = timeGrid.ToArray();
        KarrasSchedule.Validate(grid, Denoiser.SigmaMin, Denoiser.SigmaMax, allowFinalZero: true, nameof(timeGrid));
        if (generator is not null) Noise.CheckGenerator(generator, nameof(generator));
        var gen = generator ?? Noise.FreshGenerator();
        try
        {
            using var scope = NewDisposeScope();
            var xT = Noise.StartingPoint(Denoiser, n, _sampleShape, grid[0], gen);   // x_T = t_0·z
            return Sample(xT, grid, labels, progress, cancellationToken).MoveToOuterDisposeScope();
        }
        finally
        {
            if (generator is null) gen.Dispose();
        }
    }

    /// <summary>
    /// Solves the probability-flow ODE from x_T (the state at timeGrid[0]) along the grid. NFE: see the class remarks.
    /// </summary>
    /// <param name="xT">Starting state [B, …] (borrowed).</param>
    /// <param name="timeGrid">Times from high to low; may end at 0.</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public Tensor Sample(Tensor xT, IReadOnlyList<double> timeGrid, Tensor? labels = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (xT is null) throw new ArgumentNullException(nameof(xT));
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        TensorGuard.Batch(xT, Denoiser.Device, nameof(xT));
        TensorGuard.DType(xT, Denoiser.DType, nameof(xT));
        TensorGuard.SampleShape(xT, _sampleShape, nameof(xT));
        Log.Start(_logger, xT.shape[0], timeGrid.Count - 1);
        using var noGrad = no_grad();
        return Solver.Solve(Denoiser, xT, timeGrid, labels, progress, cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "ODE sampling {Count} samples over {Steps} steps")]
        public static partial void Start(ILogger logger, long count, int steps);
    }
}
