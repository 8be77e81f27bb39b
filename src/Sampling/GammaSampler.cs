using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ctm.Core.Schedules;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Sampling;

/// <summary>
/// γ-sampling for any <see cref="ITrajectoryModel"/> (Kim et al. 2024, Algorithm 1; official <c>sample_exact</c>,
/// <c>sample_gamma_multistep</c>, <c>sample_multistep</c>).
/// </summary>
/// <remarks>
/// For n = 0..N−1 on the grid t_0 &gt; … &gt; t_N:
/// <list type="bullet">
/// <item>γ = 0: x ← G(x, t_n, t_{n+1}) — deterministic long jumps;</item>
/// <item>0 &lt; γ &lt; 1: s_n = √(1−γ²)(t_{n+1} − σ_min) + σ_min; x ← G(x, t_n, s_n); x ← x + √(t_{n+1}² − s_n²)·z;</item>
/// <item>γ = 1: x ← G(x, t_n, σ_min) + √(t_{n+1}² − σ_min²)·z — consistency-model multistep sampling;</item>
/// </list>
/// never re-noising after the last jump. Stateless: the instance only binds the model and the sample shape, so one
/// sampler may serve concurrent callers on different threads. Runs under <c>torch.no_grad()</c>.
/// </remarks>
public sealed partial class GammaSampler : IGammaSampler
{
    private readonly long[] _sampleShape;
    private readonly ILogger _logger;

    /// <summary>Creates a sampler for <paramref name="model"/> producing samples of <paramref name="sampleShape"/>.</summary>
    /// <param name="model">The trajectory model (borrowed).</param>
    /// <param name="sampleShape">Shape of one sample, e.g. [2] for 2-D points or [1, 28, 28] for MNIST.</param>
    /// <param name="clampOutput">Optional final clamp of the returned samples (the official image sampler clamps to [−1, 1]).</param>
    /// <param name="logger">Logger; defaults to <see cref="NullLogger.Instance"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="sampleShape"/> does not fit the model: one probe forward pass on a
    /// zero batch of that shape runs here, so the error names the shape instead of surfacing from libtorch later.</exception>
    public GammaSampler(ITrajectoryModel model, long[] sampleShape, (double Min, double Max)? clampOutput = null, ILogger<GammaSampler>? logger = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        if (sampleShape is null || sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
            throw new ArgumentException("sampleShape must list the positive sizes of one sample, e.g. [2] or [1, 28, 28].", nameof(sampleShape));
        if (clampOutput is { } c && !(c.Min < c.Max))
            throw new ArgumentException($"clampOutput needs Min < Max, got ({c.Min}, {c.Max}).", nameof(clampOutput));
        _sampleShape = (long[])sampleShape.Clone();
        ClampOutput = clampOutput;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        SampleShapeProbe.Check(model, _sampleShape, nameof(sampleShape));
    }

    /// <summary>Creates a sampler from options (dependency injection: <see cref="SamplerOptions.SampleShape"/> and the clamp).</summary>
    /// <param name="model">The trajectory model (borrowed).</param>
    /// <param name="options">Sample shape and optional clamp.</param>
    /// <param name="logger">Logger; defaults to <see cref="NullLogger.Instance"/>.</param>
    public GammaSampler(ITrajectoryModel model, IOptions<SamplerOptions> options, ILogger<GammaSampler>? logger = null)
        : this(model, SamplerOptions.Checked(options).SampleShape, options.Value.Clamp, logger) { }

    /// <inheritdoc />
    public ITrajectoryModel Model { get; }

    /// <inheritdoc />
    public IReadOnlyList<long> SampleShape => _sampleShape;

    /// <summary>The final clamp range, if any.</summary>
    public (double Min, double Max)? ClampOutput { get; }

    /// <inheritdoc />
    public Tensor Sample(long n, double gamma, int steps, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (steps < 1 || steps > KarrasSchedule.MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps (the number of jumps, NFE) must lie in [1, {KarrasSchedule.MaxSteps}].");
        return Sample(n, gamma, KarrasGrid(steps), labels, generator, progress, cancellationToken);
    }

    /// <inheritdoc />
    public Tensor Sample(long n, double gamma, IReadOnlyList<double> timeGrid, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n (the number of samples) must be at least 1.");
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        CheckGamma(gamma);
        var grid = timeGrid.ToArray();
        KarrasSchedule.Validate(grid, Model.SigmaMin, Model.SigmaMax, allowFinalZero: false, nameof(timeGrid));
        if (generator is not null) Noise.CheckGenerator(generator, nameof(generator));
        var gen = generator ?? Noise.FreshGenerator();
        try
        {
            using var scope = NewDisposeScope();
            var xT = Noise.StartingPoint(Model, n, _sampleShape, grid[0], gen);   // x_T = t_0·z
            return Run(xT, gamma, grid, labels, gen, progress, cancellationToken).MoveToOuterDisposeScope();
        }
        finally
        {
            if (generator is null) gen.Dispose();
        }
    }

    /// <inheritdoc />
    public Tensor Sample(Tensor xT, double gamma, int steps, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (steps < 1 || steps > KarrasSchedule.MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps (the number of jumps, NFE) must lie in [1, {KarrasSchedule.MaxSteps}].");
        return Sample(xT, gamma, KarrasGrid(steps), labels, generator, progress, cancellationToken);
    }

    /// <inheritdoc />
    public Tensor Sample(Tensor xT, double gamma, IReadOnlyList<double> timeGrid, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (xT is null) throw new ArgumentNullException(nameof(xT));
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        CheckGamma(gamma);
        var grid = timeGrid.ToArray();
        KarrasSchedule.Validate(grid, Model.SigmaMin, Model.SigmaMax, allowFinalZero: false, nameof(timeGrid));
        TensorGuard.Batch(xT, Model.Device, nameof(xT));
        TensorGuard.DType(xT, Model.DType, nameof(xT));
        TensorGuard.SampleShape(xT, _sampleShape, nameof(xT));
        if (generator is not null) Noise.CheckGenerator(generator, nameof(generator));
        var gen = generator ?? Noise.FreshGenerator();
        try
        {
            return Run(xT, gamma, grid, labels, gen, progress, cancellationToken);
        }
        finally
        {
            if (generator is null) gen.Dispose();
        }
    }

    private double[] KarrasGrid(int steps) => KarrasSchedule.SamplingGrid(steps, Model.SigmaMin, Model.SigmaMax, Model.Rho);

    private Tensor Run(Tensor xT, double gamma, double[] t, Tensor? labels, Generator gen,
        IProgress<SamplingProgress>? progress, CancellationToken cancellationToken)
    {
        TensorGuard.Labels(labels, xT.shape[0], Model.NumClasses, Model.Device);
        Log.Start(_logger, xT.shape[0], gamma, t.Length - 1);
        // s_n = √(1−γ²)(t_{n+1} − σ_min) + σ_min (γ = 0 → t_{n+1}; γ = 1 → σ_min), no noise after the last jump.
        var schedule = JumpSchedule.Gamma(Model, t, gamma);
        int jumps = schedule.Jumps;
        JumpLoop.AfterJump? clamp = ClampOutput is { } c ? (xHat, n, _) => n == jumps - 1 ? xHat.clamp(c.Min, c.Max) : xHat : null;
        var x = JumpLoop.Run(Model, xT, schedule, labels, gen, clamp, progress, cancellationToken);
        Log.Done(_logger, jumps);
        return x;
    }

    private static void CheckGamma(double gamma)
    {
        if (!(gamma >= 0.0 && gamma <= 1.0))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must lie in [0, 1]: 0 = deterministic jumps, 1 = CM multistep.");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "γ-sampling {Count} samples with γ = {Gamma}, {Jumps} jumps")]
        public static partial void Start(ILogger logger, long count, double gamma, int jumps);

        [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "γ-sampling done after {Jumps} jumps")]
        public static partial void Done(ILogger logger, int jumps);
    }
}
