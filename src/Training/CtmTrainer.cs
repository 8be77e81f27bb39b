using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// Runs CTM training for a host: student G_θ, EMA target θ⁻, evaluation EMA, any <see cref="ICtmLoss"/> (the official
/// objective is <see cref="CtmLoss"/>), RAdam optimisers, exact-resume checkpoints.
/// </summary>
/// <remarks>
/// <para>Iteration schedule (official <c>g_learning_period = 2</c>): before <see cref="CtmTrainingOptions.GanStartStep"/>
/// (or with the GAN off, or a loss without a discriminator) every iteration updates the generator; afterwards
/// iterations alternate between a generator update with the GAN term and a discriminator update. After each generator
/// update θ⁻ ← μθ⁻ + (1 − μ)θ and the evaluation EMA follow.</para>
/// <para>The trainer knows nothing of the loss's terms: it back-propagates <see cref="CtmLossResult.Total"/> and reports
/// the loss's <see cref="CtmLossBreakdown"/>, so a new term is a new <see cref="ICtmLoss"/>, not a trainer change.</para>
/// <para>Randomness: one <see cref="Generator"/> seeded from <see cref="CtmTrainingOptions.Seed"/> drives every draw,
/// including the data draws of the batch callback, and is saved in checkpoints, so a resumed run continues exactly
/// like an uninterrupted one on CPU.</para>
/// <para>Ownership: the models and networks are borrowed (never disposed). At construction the trainer copies the
/// student into the target and the evaluation EMA and sets <c>requires_grad = false</c> on their parameters. Each
/// iteration runs in its own dispose scope: tensors returned by the batch callback are disposed after the iteration.</para>
/// <para>A NaN or infinite loss stops training with <see cref="TrainingDivergedException"/> before any weight changes;
/// checkpoints already written stay intact.</para>
/// </remarks>
public sealed partial class CtmTrainer : IDisposable
{
    private readonly nn.Module _student, _target, _evalEma;
    private readonly ICtmLoss _loss;
    private readonly CtmTrainingOptions _o;
    private readonly RectifiedAdam _optimizer;
    private readonly RectifiedAdam? _dOptimizer;
    private readonly EmaPairs _targetPairs, _evalEmaPairs;
    private readonly Generator _gen;
    private readonly ILogger _logger;

    /// <summary>Creates a trainer.</summary>
    /// <param name="student">G_θ: the model being trained (the one <paramref name="loss"/> differentiates).</param>
    /// <param name="target">G_θ⁻: a model around a second instance of the same architecture (the loss's target).</param>
    /// <param name="evalEma">The evaluation EMA around a third instance (sample from this one).</param>
    /// <param name="loss">The objective, built over <paramref name="student"/> and <paramref name="target"/>, e.g. <see cref="CtmLoss"/>.</param>
    /// <param name="options">Training options (learning rates, EMA rates, GAN schedule, seed).</param>
    /// <param name="logger">Logger; <see cref="NullLogger.Instance"/> by default.</param>
    public CtmTrainer(ITrainableModel student, ITrainableModel target, ITrainableModel evalEma, ICtmLoss loss,
        CtmTrainingOptions options, ILogger<CtmTrainer>? logger = null)
    {
        _student = (student ?? throw new ArgumentNullException(nameof(student))).Network;
        _target = (target ?? throw new ArgumentNullException(nameof(target))).Network;
        _evalEma = (evalEma ?? throw new ArgumentNullException(nameof(evalEma))).Network;
        if (ReferenceEquals(_student, _target) || ReferenceEquals(_student, _evalEma) || ReferenceEquals(_target, _evalEma))
            throw new ArgumentException("student, target and evalEma must wrap three distinct network instances of the same architecture.", nameof(target));
        _loss = loss ?? throw new ArgumentNullException(nameof(loss));
        _o = (options ?? throw new ArgumentNullException(nameof(options))).Clone();
        _o.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;

        Ema.CheckSameArchitecture(_target, _student, nameof(target));
        Ema.CheckSameArchitecture(_evalEma, _student, nameof(evalEma));
        Ema.Copy(_target, _student);
        Ema.Copy(_evalEma, _student);
        _targetPairs = Ema.Pairs(_target, _student);
        _evalEmaPairs = Ema.Pairs(_evalEma, _student);
        foreach (var p in _target.parameters().Concat(_evalEma.parameters())) p.requires_grad_(false);

        // RectifiedAdam, not torch.optim.RAdam: TorchSharp 0.107's RAdam squares the learning rate (see RectifiedAdam).
        _optimizer = new RectifiedAdam(_student.parameters(), _o.LearningRate);
        if (loss.Discriminator is { } d)
            _dOptimizer = new RectifiedAdam(d.parameters(), _o.DiscriminatorLearningRate, beta1: 0.5, beta2: 0.9);
        _gen = new Generator(_o.Seed, CPU);
    }

    /// <summary>Creates a trainer with options from dependency injection.</summary>
    /// <param name="student">G_θ.</param>
    /// <param name="target">G_θ⁻.</param>
    /// <param name="evalEma">Evaluation EMA.</param>
    /// <param name="loss">The objective.</param>
    /// <param name="options">Options accessor.</param>
    /// <param name="logger">Logger.</param>
    public CtmTrainer(ITrainableModel student, ITrainableModel target, ITrainableModel evalEma, ICtmLoss loss,
        IOptions<CtmTrainingOptions> options, ILogger<CtmTrainer>? logger = null)
        : this(student, target, evalEma, loss, (options ?? throw new ArgumentNullException(nameof(options))).Value, logger) { }

    /// <summary>Iterations completed (generator and discriminator iterations both count).</summary>
    public long Step { get; private set; }

    /// <summary>The trainer's generator: draw training data from it so data draws resume exactly too.</summary>
    public Generator Generator => _gen;

    /// <summary>The objective.</summary>
    public ICtmLoss Loss => _loss;

    /// <summary>Whether iteration <see cref="Step"/> will update the discriminator.</summary>
    public bool NextIsDiscriminatorStep => GanActive && (Step - _o.GanStartStep) % 2 == 1;

    private bool GanActive => _o.GanEnabled && _loss.Discriminator is not null && Step >= _o.GanStartStep;

    /// <summary>Runs one iteration on the batch produced by <paramref name="batch"/> (called with <see cref="Generator"/>).</summary>
    /// <param name="batch">Returns clean data [B, …] and class ids (or null); the trainer disposes them afterwards.</param>
    /// <exception cref="InvalidOperationException">Called inside <c>torch.inference_mode()</c> (gradients cannot be
    /// computed there; <c>no_grad()</c> is lifted for the step).</exception>
    /// <exception cref="TrainingDivergedException">The loss was NaN or infinite; no weight was changed.</exception>
    public CtmLossBreakdown TrainStep(Func<Generator, (Tensor X0, Tensor? Labels)> batch)
    {
        if (batch is null) throw new ArgumentNullException(nameof(batch));
        if (is_inference_mode_enabled())
            throw new InvalidOperationException("Training needs autograd, which torch.inference_mode() forbids; call TrainStep/Train outside that block.");
        using var grad = enable_grad();   // a caller's no_grad() would otherwise leave the loss without a graph
        using var scope = NewDisposeScope();
        var (x0, labels) = batch(_gen);
        bool dStep = NextIsDiscriminatorStep;
        _student.train();
        CtmLossBreakdown breakdown;
        if (dStep)
        {
            _loss.Discriminator!.train();
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
            _optimizer.LearningRate = _o.LearningRate * LearningRateSchedule.Factor(_o.Decay, Step, _o.DecayStartStep, _o.DecayEndStep, _o.DecayFinalFactor);
            using var result = _loss.GeneratorLoss(x0, labels, _gen, withGan: GanActive);
            CheckFinite(result);
            result.Total.backward();
            _optimizer.Step();
            _targetPairs.Update(_o.TargetEmaRate);
            _evalEmaPairs.Update(_o.EvalEmaRate);
            breakdown = result.Breakdown;
        }
        Step++;
        if (_logger.IsEnabled(LogLevel.Debug)) Log.StepDone(_logger, Step, dStep, breakdown.ToString());
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
        if (checkpointPath is not null && string.IsNullOrWhiteSpace(checkpointPath))
            throw new ArgumentException("checkpointPath must name a file, or be null for no checkpoints.", nameof(checkpointPath));
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
            ["meta"] = TrainerState.Bytes(w => { w.Write(Step); w.Write(_o.Seed); }),
            ["student"] = TrainerState.Module(_student),
            ["target"] = TrainerState.Module(_target),
            ["eval_ema"] = TrainerState.Module(_evalEma),
            ["optimizer"] = TrainerState.Bytes(w => _optimizer.Save(w)),
            ["rng"] = TrainerState.Generator(_gen),
        };
        if (_loss.Discriminator is { } d) sections["discriminator"] = TrainerState.Module(d);
        if (_dOptimizer is not null) sections["d_optimizer"] = TrainerState.Bytes(w => _dOptimizer.Save(w));
        CheckpointFile.Write(path, sections);
        Log.Checkpoint(_logger, Step, path);
    }

    /// <summary>
    /// Restores everything <see cref="SaveCheckpoint"/> wrote; training then continues exactly. All or nothing: every
    /// section is read and checked against this trainer (keys, dtypes and shapes of each network, the optimiser
    /// states, the generator state) before anything changes, so a checkpoint that does not fit leaves the trainer
    /// exactly as it was.
    /// </summary>
    /// <param name="path">Checkpoint file.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, lacks a section this trainer needs, has
    /// one it cannot use, or was written for networks of another architecture (the message names the first offending
    /// key and both shapes); the trainer is unchanged.</exception>
    public void LoadCheckpoint(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("path must name a checkpoint file written by SaveCheckpoint.", nameof(path));
        var s = new TrainerState.Sections(path);
        long step = s.Parse("meta", r => { long v = r.ReadInt64(); r.ReadUInt64(); return v; });
        if (step < 0) throw new InvalidDataException($"Checkpoint '{path}' has a negative step count ({step}); it was not loaded.");
        s.ValidateModule("student", _student);
        s.ValidateModule("target", _target);
        s.ValidateModule("eval_ema", _evalEma);
        var d = _loss.Discriminator;
        if (d is not null) s.ValidateModule("discriminator", d);
        else if (s.Has("discriminator"))
            throw new InvalidDataException($"Checkpoint '{path}' holds a discriminator but this trainer's loss has none; resume it with the GAN loss it was written with.");
        var rng = s.Need("rng");
        TrainerState.ValidateGenerator(_gen, rng, path);
        if (_dOptimizer is not null) s.Need("d_optimizer");
        TrainerState.AllOrNothing(path, Snapshot, () =>
        {
            s.LoadModule("student", _student);
            s.LoadModule("target", _target);
            s.LoadModule("eval_ema", _evalEma);
            if (d is not null) s.LoadModule("discriminator", d);
            s.Parse("optimizer", r => { _optimizer.Load(r); return 0; });
            if (_dOptimizer is not null) s.Parse("d_optimizer", r => { _dOptimizer.Load(r); return 0; });
            TrainerState.RestoreGenerator(_gen, rng);
        });
        Step = step;
        Log.Resumed(_logger, Step, path);
    }

    private Action Snapshot()
    {
        var modules = new List<Action> { TrainerState.Snapshot(_student), TrainerState.Snapshot(_target), TrainerState.Snapshot(_evalEma) };
        if (_loss.Discriminator is { } d) modules.Add(TrainerState.Snapshot(d));
        var opt = TrainerState.Bytes(w => _optimizer.Save(w));
        var dOpt = _dOptimizer is null ? null : TrainerState.Bytes(w => _dOptimizer.Save(w));
        var gen = TrainerState.Generator(_gen);
        return () =>
        {
            foreach (var restore in modules) restore();
            using (var r = new BinaryReader(new MemoryStream(opt))) _optimizer.Load(r);
            if (dOpt is not null) using (var r = new BinaryReader(new MemoryStream(dOpt))) _dOptimizer!.Load(r);
            TrainerState.RestoreGenerator(_gen, gen);
        };
    }

    /// <summary>Disposes the optimisers and the generator (never the networks).</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        _dOptimizer?.Dispose();
        _gen.Dispose();
    }

    private void CheckFinite(CtmLossResult result)
    {
        using var finite = result.Total.detach().isfinite();
        if (!finite.item<bool>())
        {
            Log.Diverged(_logger, Step, result.Breakdown.ToString());
            throw new TrainingDivergedException(Step, result.Breakdown.Terms);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "CTM step {Step} (discriminator: {DStep}): {Loss}")]
        public static partial void StepDone(ILogger logger, long step, bool dStep, string loss);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Checkpoint at step {Step} written to {Path}")]
        public static partial void Checkpoint(ILogger logger, long step, string path);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Resumed at step {Step} from {Path}")]
        public static partial void Resumed(ILogger logger, long step, string path);

        [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Training diverged at step {Step}: {Loss}")]
        public static partial void Diverged(ILogger logger, long step, string loss);
    }
}
