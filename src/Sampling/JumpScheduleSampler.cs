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
/// CTM sampling along any <see cref="JumpSchedule"/>: γ-sampling through a user-given time grid, the official "exact"
/// sampler through chosen times (e.g. NFE 2 through one intermediate time:
/// <c>JumpSchedule.Gamma(model, new[] { model.SigmaMax, t, model.SigmaMin }, 0)</c> or <see cref="JumpSchedule.GridIndices"/>),
/// and the official two-jump recipe that re-noises above its first target (<see cref="JumpSchedule.RenoisedTwoJumps"/>).
/// </summary>
/// <remarks>
/// <para>For each jump n: x̂ = G(x, t_n, s_n); then x = x̂ + √(t_{n+1}² − s_n²)·z before the next jump (no noise after
/// the last). Cost: one network evaluation per jump, so a call's NFE is <see cref="JumpSchedule.Jumps"/>.</para>
/// <para>Stateless apart from the bound model and sample shape; every call returns one new tensor and disposes the rest.
/// Randomness comes only from the generator argument (a fresh random one when null). Runs under <c>torch.no_grad()</c>.
/// The sample count is a <see cref="long"/>, so a <see cref="long"/> n never binds to the <see cref="Tensor"/> overload.</para>
/// </remarks>
public sealed class JumpScheduleSampler
{
    private readonly long[] _sampleShape;

    /// <summary>Creates a sampler for <paramref name="model"/> producing samples of <paramref name="sampleShape"/>.</summary>
    /// <param name="model">The trajectory model (borrowed).</param>
    /// <param name="sampleShape">Shape of one sample, e.g. [2] or [1, 16, 16].</param>
    /// <param name="clampOutput">Optional final clamp (the official image samplers clamp to [−1, 1]).</param>
    /// <exception cref="ArgumentException"><paramref name="sampleShape"/> does not fit the model (checked by one probe
    /// forward pass on a zero batch).</exception>
    public JumpScheduleSampler(ITrajectoryModel model, long[] sampleShape, (double Min, double Max)? clampOutput = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        if (sampleShape is null || sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
            throw new ArgumentException("sampleShape must list the positive sizes of one sample, e.g. [2] or [1, 28, 28].", nameof(sampleShape));
        if (clampOutput is { } c && !(c.Min < c.Max))
            throw new ArgumentException($"clampOutput needs Min < Max, got ({c.Min}, {c.Max}).", nameof(clampOutput));
        _sampleShape = (long[])sampleShape.Clone();
        ClampOutput = clampOutput;
        SampleShapeProbe.Check(model, _sampleShape, nameof(sampleShape));
    }

    /// <summary>Creates a sampler from options (dependency injection: <see cref="SamplerOptions.SampleShape"/> and the clamp).</summary>
    /// <param name="model">The trajectory model (borrowed).</param>
    /// <param name="options">Sample shape and optional clamp.</param>
    public JumpScheduleSampler(ITrajectoryModel model, IOptions<SamplerOptions> options)
        : this(model, SamplerOptions.Checked(options).SampleShape, options.Value.Clamp) { }

    /// <summary>The model sampled from.</summary>
    public ITrajectoryModel Model { get; }

    /// <summary>Shape of one sample.</summary>
    public IReadOnlyList<long> SampleShape => _sampleShape;

    /// <summary>The final clamp range, if any.</summary>
    public (double Min, double Max)? ClampOutput { get; }

    /// <summary>Draws <paramref name="n"/> samples: x = t_0·z, then the schedule. NFE = <see cref="JumpSchedule.Jumps"/>.</summary>
    /// <param name="n">Number of samples, ≥ 1.</param>
    /// <param name="schedule">The jumps (its first start is normally σ_max).</param>
    /// <param name="labels">Class ids [n] for class-conditional models; otherwise null.</param>
    /// <param name="generator">Source of all noise.</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    public Tensor Sample(long n, JumpSchedule schedule, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n (the number of samples) must be at least 1.");
        CheckSchedule(schedule);
        if (generator is not null) Noise.CheckGenerator(generator, nameof(generator));
        var gen = generator ?? Noise.FreshGenerator();
        try
        {
            using var scope = NewDisposeScope();
            var xT = Noise.StartingPoint(Model, n, _sampleShape, schedule.From[0], gen);   // x = t_0·z
            return Run(xT, schedule, labels, gen, progress, cancellationToken).MoveToOuterDisposeScope();
        }
        finally
        {
            if (generator is null) gen.Dispose();
        }
    }

    /// <summary>Runs the schedule from a given state x at time schedule.From[0]. NFE = <see cref="JumpSchedule.Jumps"/>.</summary>
    /// <param name="xT">Starting state [B, …] (borrowed).</param>
    /// <param name="schedule">The jumps.</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="generator">Source of the re-noising noise (unused when no jump re-noises).</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    public Tensor Sample(Tensor xT, JumpSchedule schedule, Tensor? labels = null, Generator? generator = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (xT is null) throw new ArgumentNullException(nameof(xT));
        CheckSchedule(schedule);
        TensorGuard.Batch(xT, Model.Device, nameof(xT));
        TensorGuard.DType(xT, Model.DType, nameof(xT));
        TensorGuard.SampleShape(xT, _sampleShape, nameof(xT));
        if (generator is not null) Noise.CheckGenerator(generator, nameof(generator));
        var gen = generator ?? Noise.FreshGenerator();
        try
        {
            return Run(xT, schedule, labels, gen, progress, cancellationToken);
        }
        finally
        {
            if (generator is null) gen.Dispose();
        }
    }

    private Tensor Run(Tensor xT, JumpSchedule schedule, Tensor? labels, Generator gen, IProgress<SamplingProgress>? progress, CancellationToken ct)
    {
        TensorGuard.Labels(labels, xT.shape[0], Model.NumClasses, Model.Device);
        int last = schedule.Jumps - 1;
        JumpLoop.AfterJump? clamp = ClampOutput is { } c ? (xHat, n, _) => n == last ? xHat.clamp(c.Min, c.Max) : xHat : null;
        return JumpLoop.Run(Model, xT, schedule, labels, gen, clamp, progress, ct);
    }

    private void CheckSchedule(JumpSchedule schedule)
    {
        if (schedule is null) throw new ArgumentNullException(nameof(schedule));
        double lo = Model.SigmaMin * (1 - KarrasSchedule.Tolerance), hi = Model.SigmaMax * (1 + KarrasSchedule.Tolerance);
        if (schedule.From.Concat(schedule.To).Any(v => v < lo || v > hi))
            throw new ArgumentException($"The schedule ({schedule}) has times outside the model's [σ_min, σ_max] = [{Model.SigmaMin}, {Model.SigmaMax}]; " +
                "build it with the model's σ_min and σ_max.", nameof(schedule));
    }
}
