using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Ctm.Core.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// Composes CTM distillation for a host: student G_θ, EMA target θ⁻, evaluation EMA, teacher, optional
/// discriminator, the <see cref="CtmLoss"/>, RAdam optimisers, exact-resume checkpoints.
/// </summary>
/// <remarks>
/// <para>Iteration schedule (official <c>g_learning_period = 2</c>): before <see cref="CtmTrainingOptions.GanStartStep"/>
/// (or with the GAN off) every iteration updates the generator on CTM + DSM; afterwards iterations alternate between a
/// generator update on CTM + DSM + GAN and a discriminator update. After each generator update θ⁻ ← μθ⁻ + (1 − μ)θ and
/// the evaluation EMA follow.</para>
/// <para>Randomness: one <see cref="Generator"/> seeded from <see cref="CtmTrainingOptions.Seed"/> drives every draw,
/// including the data draws of the batch callback, and is saved in checkpoints, so a resumed run continues exactly
/// like an uninterrupted one on CPU.</para>
/// <para>Ownership: the networks are borrowed (never disposed). At construction the trainer copies the student into the
/// target and the evaluation EMA, and sets <c>requires_grad = false</c> on the parameters of the target, the evaluation
/// EMA and (when it is an <see cref="EdmDenoiser"/>) the teacher, since none of them is trained by gradient. Each iteration runs in
/// its own dispose scope: tensors returned by the batch callback are disposed after the iteration.</para>
/// <para>A NaN or infinite loss stops training with <see cref="TrainingDivergedException"/> before any weight changes;
/// checkpoints already written stay intact.</para>
/// </remarks>
public sealed partial class CtmTrainer : IDisposable
{
    private readonly CtmTrajectoryModel _student, _target, _evalEma;
    private readonly nn.Module<Tensor, Tensor>? _discriminator;
    private readonly CtmTrainingOptions _o;
    private readonly CtmLoss _loss;
    private readonly RectifiedAdam _optimizer;
    private readonly RectifiedAdam? _dOptimizer;
    private readonly Generator _gen;
    private readonly ILogger _logger;

    /// <summary>Creates a trainer.</summary>
    /// <param name="student">G_θ around the network being trained.</param>
    /// <param name="target">G_θ⁻ around a second instance of the same architecture.</param>
    /// <param name="evalEma">The evaluation EMA around a third instance (sample from this one).</param>
    /// <param name="teacher">The teacher denoiser (null in teacher-free modes).</param>
    /// <param name="options">Training options.</param>
    /// <param name="lastLayerWeight">W for the adaptive weights, e.g. <c>((TrajectoryMlp)net).OutputLayer.weight</c>.</param>
    /// <param name="discriminator">Discriminator (needed when <see cref="CtmTrainingOptions.GanEnabled"/>).</param>
    /// <param name="distance">CTM distance; L2 by default.</param>
    /// <param name="logger">Logger; <see cref="NullLogger.Instance"/> by default.</param>
    public CtmTrainer(CtmTrajectoryModel student, CtmTrajectoryModel target, CtmTrajectoryModel evalEma, IDenoiser? teacher,
        CtmTrainingOptions options, Parameter? lastLayerWeight = null, nn.Module<Tensor, Tensor>? discriminator = null,
        IDistance? distance = null, ILogger<CtmTrainer>? logger = null)
    {
        _student = student ?? throw new ArgumentNullException(nameof(student));
        _target = target ?? throw new ArgumentNullException(nameof(target));
        _evalEma = evalEma ?? throw new ArgumentNullException(nameof(evalEma));
        if (ReferenceEquals(student.Network, target.Network) || ReferenceEquals(student.Network, evalEma.Network) || ReferenceEquals(target.Network, evalEma.Network))
            throw new ArgumentException("student, target and evalEma must wrap three distinct network instances of the same architecture.", nameof(target));
        _o = (options ?? throw new ArgumentNullException(nameof(options))).Clone();
        _o.Validate();
        _discriminator = discriminator;
        _logger = (ILogger?)logger ?? NullLogger.Instance;

        Ema.Copy(target.Network, student.Network);
        Ema.Copy(evalEma.Network, student.Network);
        foreach (var p in target.Network.parameters().Concat(evalEma.Network.parameters())) p.requires_grad_(false);
        if (teacher is EdmDenoiser edm) foreach (var p in edm.Network.parameters()) p.requires_grad_(false);

        _loss = new CtmLoss(student, target, teacher, _o, distance, lastLayerWeight, discriminator);
        // RectifiedAdam, not torch.optim.RAdam: TorchSharp 0.107's RAdam squares the learning rate (see RectifiedAdam).
        _optimizer = new RectifiedAdam(student.Network.parameters(), _o.LearningRate);
        if (discriminator is not null)
            _dOptimizer = new RectifiedAdam(discriminator.parameters(), _o.DiscriminatorLearningRate, beta1: 0.5, beta2: 0.9);
        _gen = new Generator(_o.Seed, CPU);
    }

    /// <summary>Creates a trainer with options from dependency injection.</summary>
    /// <param name="student">G_θ.</param>
    /// <param name="target">G_θ⁻.</param>
    /// <param name="evalEma">Evaluation EMA.</param>
    /// <param name="teacher">Teacher or null.</param>
    /// <param name="options">Options accessor.</param>
    /// <param name="lastLayerWeight">W for adaptive weights.</param>
    /// <param name="discriminator">Discriminator or null.</param>
    /// <param name="logger">Logger.</param>
    public CtmTrainer(CtmTrajectoryModel student, CtmTrajectoryModel target, CtmTrajectoryModel evalEma, IDenoiser? teacher,
        IOptions<CtmTrainingOptions> options, Parameter? lastLayerWeight = null, nn.Module<Tensor, Tensor>? discriminator = null,
        ILogger<CtmTrainer>? logger = null)
        : this(student, target, evalEma, teacher, (options ?? throw new ArgumentNullException(nameof(options))).Value,
            lastLayerWeight, discriminator, null, logger) { }

    /// <summary>Iterations completed (generator and discriminator iterations both count).</summary>
    public long Step { get; private set; }

    /// <summary>The trainer's generator: draw training data from it so data draws resume exactly too.</summary>
    public Generator Generator => _gen;

    /// <summary>The objective.</summary>
    public ICtmLoss Loss => _loss;

    /// <summary>Whether iteration <see cref="Step"/> will update the discriminator.</summary>
    public bool NextIsDiscriminatorStep => GanActive && (Step - _o.GanStartStep) % 2 == 1;

    private bool GanActive => _o.GanEnabled && _discriminator is not null && Step >= _o.GanStartStep;

    /// <summary>Runs one iteration on the batch produced by <paramref name="batch"/> (called with <see cref="Generator"/>).</summary>
    /// <param name="batch">Returns clean data [B, …] and class ids (or null); the trainer disposes them afterwards.</param>
    /// <exception cref="TrainingDivergedException">The loss was NaN or infinite; no weight was changed.</exception>
    public CtmLossBreakdown TrainStep(Func<Generator, (Tensor X0, Tensor? Labels)> batch)
    {
        if (batch is null) throw new ArgumentNullException(nameof(batch));
        using var scope = NewDisposeScope();
        var (x0, labels) = batch(_gen);
        bool dStep = NextIsDiscriminatorStep;
        _student.Network.train();
        CtmLossBreakdown breakdown;
        if (dStep)
        {
            _discriminator!.train();
            _dOptimizer!.ZeroGrad();
            using var result = _loss.DiscriminatorLoss(x0, labels, _gen);
            CheckFinite(result);
            result.Total.backward();
            _dOptimizer.Step();
            breakdown = result.Breakdown;
        }
        else
        {
            _optimizer.ZeroGrad();
            _dOptimizer?.ZeroGrad();
            using var result = _loss.GeneratorLoss(x0, labels, _gen, withGan: GanActive);
            CheckFinite(result);
            result.Total.backward();
            _optimizer.Step();
            Ema.Update(_target.Network, _student.Network, _o.TargetEmaRate);
            Ema.Update(_evalEma.Network, _student.Network, _o.EvalEmaRate);
            breakdown = result.Breakdown;
        }
        Step++;
        Log.StepDone(_logger, Step, dStep, breakdown.Ctm, breakdown.Dsm, breakdown.GanGenerator, breakdown.GanDiscriminator);
        return breakdown;
    }

    /// <summary>
    /// Runs <paramref name="steps"/> iterations, writing a checkpoint every <paramref name="checkpointEvery"/> iterations
    /// (and at the end) when <paramref name="checkpointPath"/> is given.
    /// </summary>
    /// <param name="batch">Batch callback (see <see cref="TrainStep"/>).</param>
    /// <param name="steps">Iterations to run now.</param>
    /// <param name="checkpointPath">Checkpoint file, or null.</param>
    /// <param name="checkpointEvery">Checkpoint period in iterations (0 = only at the end).</param>
    /// <param name="progress">Per-iteration progress.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    public void Train(Func<Generator, (Tensor X0, Tensor? Labels)> batch, long steps, string? checkpointPath = null, long checkpointEvery = 0,
        IProgress<CtmTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be ≥ 0.");
        if (checkpointEvery < 0) throw new ArgumentOutOfRangeException(nameof(checkpointEvery), checkpointEvery, "checkpointEvery must be ≥ 0.");
        for (long i = 0; i < steps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool dStep = NextIsDiscriminatorStep;
            var b = TrainStep(batch);
            progress?.Report(new CtmTrainingProgress(i + 1, steps, b, dStep));
            if (checkpointPath is not null && checkpointEvery > 0 && (i + 1) % checkpointEvery == 0) SaveCheckpoint(checkpointPath);
        }
        if (checkpointPath is not null) SaveCheckpoint(checkpointPath);
    }

    /// <summary>
    /// Writes student, target, evaluation EMA, discriminator, both optimisers, the step and the generator state to one
    /// file, atomically.
    /// </summary>
    /// <param name="path">Checkpoint file.</param>
    public void SaveCheckpoint(string path)
    {
        var sections = new Dictionary<string, byte[]>
        {
            ["meta"] = Bytes(w => { w.Write(Step); w.Write(_o.Seed); }),
            ["student"] = Bytes(w => _student.Network.save(w)),
            ["target"] = Bytes(w => _target.Network.save(w)),
            ["eval_ema"] = Bytes(w => _evalEma.Network.save(w)),
            ["optimizer"] = Bytes(w => _optimizer.Save(w)),
            ["rng"] = RngState(),
        };
        if (_discriminator is not null) sections["discriminator"] = Bytes(w => _discriminator.save(w));
        if (_dOptimizer is not null) sections["d_optimizer"] = Bytes(w => _dOptimizer.Save(w));
        CheckpointFile.Write(path, sections);
        Log.Checkpoint(_logger, Step, path);
    }

    /// <summary>Restores everything <see cref="SaveCheckpoint"/> wrote; training then continues exactly.</summary>
    /// <param name="path">Checkpoint file.</param>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, or lacks a section this trainer needs.</exception>
    public void LoadCheckpoint(string path)
    {
        var s = CheckpointFile.Read(path);
        byte[] Need(string name) => s.TryGetValue(name, out var b) ? b
            : throw new InvalidDataException($"Checkpoint '{path}' has no '{name}' section; it was written by a trainer with a different set-up.");
        using (var r = Reader(Need("meta"))) { Step = r.ReadInt64(); }
        using (var r = Reader(Need("student"))) _student.Network.load(r);
        using (var r = Reader(Need("target"))) _target.Network.load(r);
        using (var r = Reader(Need("eval_ema"))) _evalEma.Network.load(r);
        using (var r = Reader(Need("optimizer"))) _optimizer.Load(r);
        if (_discriminator is not null) using (var r = Reader(Need("discriminator"))) _discriminator.load(r);
        if (_dOptimizer is not null) using (var r = Reader(Need("d_optimizer"))) _dOptimizer.Load(r);
        var rng = Need("rng");
        using var state = tensor(rng, dtype: ScalarType.Byte);
        _gen.set_state(state);
        Log.Resumed(_logger, Step, path);
    }

    /// <summary>Disposes the optimisers and the generator (never the networks).</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        _dOptimizer?.Dispose();
        _gen.Dispose();
    }

    private byte[] RngState()
    {
        using var state = _gen.get_state();
        using var bytes = state.to_type(ScalarType.Byte).contiguous();
        return bytes.data<byte>().ToArray();
    }

    private void CheckFinite(CtmLossResult result)
    {
        using var finite = result.Total.detach().isfinite();
        if (!finite.item<bool>())
        {
            Log.Diverged(_logger, Step, result.Breakdown.Ctm, result.Breakdown.Dsm);
            throw new TrainingDivergedException(Step, result.Breakdown);
        }
    }

    private static byte[] Bytes(Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) write(w);
        return ms.ToArray();
    }

    private static BinaryReader Reader(byte[] bytes) => new(new MemoryStream(bytes), System.Text.Encoding.UTF8);

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "CTM step {Step} (discriminator: {DStep}): CTM {Ctm}, DSM {Dsm}, G {G}, D {D}")]
        public static partial void StepDone(ILogger logger, long step, bool dStep, double ctm, double dsm, double g, double d);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Checkpoint at step {Step} written to {Path}")]
        public static partial void Checkpoint(ILogger logger, long step, string path);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Resumed at step {Step} from {Path}")]
        public static partial void Resumed(ILogger logger, long step, string path);

        [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Training diverged at step {Step}: CTM {Ctm}, DSM {Dsm}")]
        public static partial void Diverged(ILogger logger, long step, double ctm, double dsm);
    }
}

/// <summary>The training loss became NaN or infinite. No weight was updated by the failing iteration.</summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">Iteration that failed.</param>
    /// <param name="loss">Its loss breakdown.</param>
    public TrainingDivergedException(long step, CtmLossBreakdown loss)
        : base($"The training loss is not finite at iteration {step} (CTM {loss.Ctm}, DSM {loss.Dsm}, GAN-G {loss.GanGenerator}, GAN-D {loss.GanDiscriminator}). " +
               "No weights were changed; the last checkpoint is intact. Lower the learning rate, check the data for NaN/Inf and its scale (σ_data), then resume.")
    {
        Step = step;
        Loss = loss;
    }

    /// <summary>Iteration that failed.</summary>
    public long Step { get; }

    /// <summary>Its loss breakdown.</summary>
    public CtmLossBreakdown Loss { get; }
}
