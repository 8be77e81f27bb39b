using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ctm.Core.Schedules;
using Ctm.Core.Solvers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Sampling;

/// <summary>
/// Score-based (probability-flow ODE) sampling of any <see cref="IDenoiser"/> with an <see cref="IOdeSolver"/>:
/// the teacher's Heun sampler, or a CTM model used as a plain diffusion model through its diagonal g(x, t, t)
/// (official <c>sample_heun</c> with <c>ctm=True</c>).
/// </summary>
/// <remarks>Stateless apart from its bound denoiser, solver and sample shape. Runs under <c>torch.no_grad()</c>.</remarks>
public sealed partial class DiffusionSampler
{
    private readonly long[] _sampleShape;
    private readonly ILogger _logger;

    /// <summary>Creates a sampler.</summary>
    /// <param name="denoiser">Teacher, CTM model (its diagonal is used) or analytic model (borrowed).</param>
    /// <param name="sampleShape">Shape of one sample.</param>
    /// <param name="solver">The ODE solver; <see cref="HeunSolver"/> by default.</param>
    /// <param name="rho">ρ of the Karras grid built by <see cref="Sample(int, int, Tensor?, Generator?, IProgress{SamplingProgress}?, CancellationToken)"/>.</param>
    /// <param name="logger">Logger; defaults to <see cref="NullLogger.Instance"/>.</param>
    public DiffusionSampler(IDenoiser denoiser, long[] sampleShape, IOdeSolver? solver = null, double rho = KarrasSchedule.DefaultRho,
        ILogger<DiffusionSampler>? logger = null)
    {
        Denoiser = denoiser ?? throw new ArgumentNullException(nameof(denoiser));
        if (sampleShape is null || sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
            throw new ArgumentException("sampleShape must list the positive sizes of one sample, e.g. [2] or [1, 28, 28].", nameof(sampleShape));
        if (!(rho > 0) || !double.IsFinite(rho)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "ρ must be finite and > 0 (7 in EDM).");
        _sampleShape = (long[])sampleShape.Clone();
        Solver = solver ?? HeunSolver.Instance;
        Rho = rho;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The denoiser sampled from.</summary>
    public IDenoiser Denoiser { get; }

    /// <summary>The ODE solver.</summary>
    public IOdeSolver Solver { get; }

    /// <summary>ρ of the default grid.</summary>
    public double Rho { get; }

    /// <summary>Shape of one sample.</summary>
    public IReadOnlyList<long> SampleShape => _sampleShape;

    /// <summary>
    /// Draws <paramref name="n"/> samples with EDM's grid of <paramref name="numPoints"/> Karras points followed by 0
    /// (Heun: 2·numPoints − 1 evaluations; 18 points = the 35-NFE EDM sampler).
    /// </summary>
    /// <param name="n">Number of samples, ≥ 1.</param>
    /// <param name="numPoints">Karras points before the final 0, ≥ 2.</param>
    /// <param name="labels">Class ids [n] or null.</param>
    /// <param name="generator">Source of x_T.</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public Tensor Sample(int n, int numPoints, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (numPoints < 2)
            throw new ArgumentOutOfRangeException(nameof(numPoints), numPoints, "numPoints must be at least 2 (σ_max and σ_min before the final 0).");
        var grid = KarrasSchedule.EdmGrid(numPoints, Denoiser.SigmaMin, Denoiser.SigmaMax, Rho);
        return Sample(n, grid, labels, generator, progress, cancellationToken);
    }

    /// <summary>Draws <paramref name="n"/> samples along an explicit grid (strictly descending; may end at 0).</summary>
    /// <param name="n">Number of samples, ≥ 1.</param>
    /// <param name="timeGrid">Times from σ_max (or below) down to σ_min or 0.</param>
    /// <param name="labels">Class ids [n] or null.</param>
    /// <param name="generator">Source of x_T.</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public Tensor Sample(int n, IReadOnlyList<double> timeGrid, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n (the number of samples) must be at least 1.");
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        var grid = timeGrid.ToArray();
        KarrasSchedule.Validate(grid, Denoiser.SigmaMin, Denoiser.SigmaMax, allowFinalZero: true, nameof(timeGrid));
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

    /// <summary>Solves the probability-flow ODE from x_T (the state at timeGrid[0]) along the grid.</summary>
    /// <param name="xT">Starting state [B, …] (borrowed).</param>
    /// <param name="timeGrid">Times from high to low; may end at 0.</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public Tensor Sample(Tensor xT, IReadOnlyList<double> timeGrid, Tensor? labels = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (xT is null) throw new ArgumentNullException(nameof(xT));
        TensorGuard.Batch(xT, Denoiser.Device, nameof(xT));
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
