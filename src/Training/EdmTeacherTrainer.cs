using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// Trains an EDM teacher by denoising score matching (<see cref="EdmLoss"/>) with Adam or RAdam and a weight EMA,
/// with exact-resume checkpoints.
/// </summary>
/// <remarks>
/// <para>The models are borrowed; the EMA network's parameters are set to requires_grad = false and initialised as a
/// copy. Each iteration runs in its own dispose scope. Sample from the <c>ema</c> model.</para>
/// <para>Randomness: one <see cref="Generator"/> seeded from <see cref="EdmTrainingOptions.Seed"/> drives every draw,
/// including the batch callback's, and is saved in checkpoints with both networks, the optimiser and the step, so a
/// resumed run continues exactly like an uninterrupted one on CPU.</para>
/// </remarks>
public sealed partial class EdmTeacherTrainer : IDisposable
{
    private readonly ITrainableModel _model;
    private readonly nn.Module _network, _ema;
    private readonly EdmTrainingOptions _o;
    private readonly OptimizerHelper? _adam;
    private readonly RectifiedAdam? _radam;
    private readonly Generator _gen;
    private readonly EmaPairs _emaPairs;
    private readonly ILogger _logger;

    /// <summary>Creates the trainer.</summary>
    /// <param name="model">The denoiser being trained (e.g. an <see cref="Models.EdmDenoiser"/>).</param>
    /// <param name="ema">A denoiser around a second instance of the same network (the EMA to sample from).</param>
    /// <param name="options">Settings; the defaults when null.</param>
    /// <param name="logger">Logger; <see cref="NullLogger.Instance"/> by default.</param>
    public EdmTeacherTrainer(ITrainableModel model, ITrainableModel ema, EdmTrainingOptions? options = null, ILogger<EdmTeacherTrainer>? logger = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _network = model.Network;
        _ema = (ema ?? throw new ArgumentNullException(nameof(ema))).Network;
        if (ReferenceEquals(_network, _ema)) throw new ArgumentException("model and ema must wrap distinct network instances.", nameof(ema));
        _o = (options ?? new EdmTrainingOptions()).Clone();
        _o.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Ema.CheckSameArchitecture(_ema, _network, nameof(ema));
        Ema.Copy(_ema, _network);
        foreach (var p in _ema.parameters()) p.requires_grad_(false);
        _emaPairs = Ema.Pairs(_ema, _network);   // matched once; loading a checkpoint copies into these same tensors
        if (_o.UseRAdam) _radam = new RectifiedAdam(_network.parameters(), _o.LearningRate);
        else _adam = optim.Adam(_network.parameters(), lr: _o.LearningRate);
        _gen = new Generator(_o.Seed, CPU);
    }

    /// <summary>Creates the trainer with options from dependency injection.</summary>
    /// <param name="model">The denoiser being trained.</param>
    /// <param name="ema">The EMA denoiser.</param>
    /// <param name="options">Options accessor.</param>
    /// <param name="logger">Logger.</param>
    public EdmTeacherTrainer(ITrainableModel model, ITrainableModel ema, IOptions<EdmTrainingOptions> options, ILogger<EdmTeacherTrainer>? logger = null)
        : this(model, ema, (options ?? throw new ArgumentNullException(nameof(options))).Value, logger) { }

    /// <summary>Iterations completed.</summary>
    public long Step { get; private set; }

    /// <summary>The trainer's generator (draw data from it for reproducible, exactly resumable runs).</summary>
    public Generator Generator => _gen;

    /// <summary>One iteration; returns the mean loss.</summary>
    /// <param name="batch">Returns clean data and class ids (or null); disposed after the iteration.</param>
    /// <exception cref="InvalidOperationException">Called inside <c>torch.inference_mode()</c> (gradients cannot be
    /// computed there; <c>no_grad()</c> is lifted for the step).</exception>
    /// <exception cref="TrainingDivergedException">The loss was not finite; no weight was changed.</exception>
    public double TrainStep(Func<Generator, (Tensor X0, Tensor? Labels)> batch)
    {
        if (batch is null) throw new ArgumentNullException(nameof(batch));
        if (is_inference_mode_enabled())
            throw new InvalidOperationException("Training needs autograd, which torch.inference_mode() forbids; call TrainStep/Train outside that block.");
        using var grad = enable_grad();   // a caller's no_grad() would otherwise leave the loss without a graph
        using var scope = NewDisposeScope();
        var (x0, labels) = batch(_gen);
        _network.train();
        _adam?.zero_grad();
        _radam?.ZeroGrad();
        double lr = _o.LearningRate * LearningRateSchedule.Factor(_o.Decay, Step, _o.DecayStartStep, _o.DecayEndStep, _o.DecayFinalFactor);
        if (_radam is not null) _radam.LearningRate = lr;
        if (_adam is not null) foreach (var group in _adam.ParamGroups) group.LearningRate = lr;
        var loss = EdmLoss.PerSample(_model, x0, _gen, labels, _o.PMean, _o.PStd).mean();
        double value = loss.detach().to_type(ScalarType.Float64).item<double>();
        if (!double.IsFinite(value))
        {
            Log.Diverged(_logger, Step, value);
            throw new TrainingDivergedException(Step, new Dictionary<string, double> { ["edm"] = value });
        }
        loss.backward();
        _adam?.step();
        _radam?.Step();
        _emaPairs.Update(_o.EmaRate);
        Step++;
        Log.StepDone(_logger, Step, value);
        return value;
    }

    /// <summary>
    /// Runs <paramref name="steps"/> iterations, writing a checkpoint every <paramref name="checkpointEvery"/> iterations
    /// (and at the end) when <paramref name="checkpointPath"/> is given.
    /// </summary>
    /// <param name="batch">Batch callback.</param>
    /// <param name="steps">Iterations to run now.</param>
    /// <param name="checkpointPath">Checkpoint file, or null.</param>
    /// <param name="checkpointEvery">Checkpoint period in iterations (0 = only at the end).</param>
    /// <param name="progress">Per-iteration progress.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    public void Train(Func<Generator, (Tensor X0, Tensor? Labels)> batch, long steps, string? checkpointPath = null, long checkpointEvery = 0,
        IProgress<EdmTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be ≥ 0.");
        if (checkpointEvery < 0) throw new ArgumentOutOfRangeException(nameof(checkpointEvery), checkpointEvery, "checkpointEvery must be ≥ 0.");
        if (checkpointPath is not null && string.IsNullOrWhiteSpace(checkpointPath))
            throw new ArgumentException("checkpointPath must name a file, or be null for no checkpoints.", nameof(checkpointPath));
        for (long i = 0; i < steps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double l = TrainStep(batch);
            progress?.Report(new EdmTrainingProgress(i + 1, steps, l));
            if (checkpointPath is not null && checkpointEvery > 0 && (i + 1) % checkpointEvery == 0) SaveCheckpoint(checkpointPath);
        }
        if (checkpointPath is not null) SaveCheckpoint(checkpointPath);
    }

    /// <summary>Writes the network, the EMA, the optimiser, the step and the generator state to one file, atomically.</summary>
    /// <param name="path">Checkpoint file.</param>
    public void SaveCheckpoint(string path)
    {
        var sections = new Dictionary<string, byte[]>
        {
            ["meta"] = TrainerState.Bytes(w => { w.Write(Step); w.Write(_o.Seed); w.Write(_o.UseRAdam); }),
            ["network"] = TrainerState.Module(_network),
            ["ema"] = TrainerState.Module(_ema),
            ["optimizer"] = SaveOptimizer(),
            ["rng"] = TrainerState.Generator(_gen),
        };
        CheckpointFile.Write(path, sections);
        Log.Checkpoint(_logger, Step, path);
    }

    /// <summary>
    /// Restores everything <see cref="SaveCheckpoint"/> wrote; training then continues exactly. All or nothing: every
    /// section is checked against this trainer before anything changes, so a checkpoint that does not fit leaves the
    /// trainer exactly as it was.
    /// </summary>
    /// <param name="path">Checkpoint file.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, lacks a section, was written with the other
    /// optimiser, or for a network of another architecture (the message names the first offending key and both
    /// shapes); the trainer is unchanged.</exception>
    public void LoadCheckpoint(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("path must name a checkpoint file written by SaveCheckpoint.", nameof(path));
        var s = new TrainerState.Sections(path);
        var (step, radam) = s.Parse("meta", r => { long v = r.ReadInt64(); r.ReadUInt64(); return (v, r.ReadBoolean()); });
        if (radam != _o.UseRAdam)
            throw new InvalidDataException($"Checkpoint '{path}' was written with UseRAdam = {radam}; set the same optimiser to resume it.");
        if (step < 0) throw new InvalidDataException($"Checkpoint '{path}' has a negative step count ({step}); it was not loaded.");
        s.ValidateModule("network", _network);
        s.ValidateModule("ema", _ema);
        var rng = s.Need("rng");
        TrainerState.ValidateGenerator(_gen, rng, path);
        // torch.optim.Adam's own format is checked by length against this optimiser's (identical for the same
        // parameters); RectifiedAdam checks its state in full.
        var optimizer = s.Need("optimizer");
        var own = SaveOptimizer();
        if (_adam is not null && optimizer.Length != own.Length)
            throw new InvalidDataException($"Checkpoint '{path}', section 'optimizer': {optimizer.Length} bytes, but this trainer's Adam state is {own.Length}; it was written for other parameters.");
        TrainerState.AllOrNothing(path, () =>
        {
            var net = TrainerState.Snapshot(_network);
            var ema = TrainerState.Snapshot(_ema);
            var gen = TrainerState.Generator(_gen);
            return () => { net(); ema(); LoadOptimizer(own); TrainerState.RestoreGenerator(_gen, gen); };
        }, () =>
        {
            s.LoadModule("network", _network);
            s.LoadModule("ema", _ema);
            LoadOptimizer(optimizer);
            TrainerState.RestoreGenerator(_gen, rng);
        });
        Step = step;
        Log.Resumed(_logger, Step, path);
    }

    private byte[] SaveOptimizer() => TrainerState.Bytes(w => { if (_radam is not null) _radam.Save(w); else _adam!.save_state_dict(w); });

    private void LoadOptimizer(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes), System.Text.Encoding.UTF8);
        if (_radam is not null) _radam.Load(r); else _adam!.load_state_dict(r);
        if (r.BaseStream.Position != bytes.Length) throw new InvalidDataException($"The optimiser state has {bytes.Length - r.BaseStream.Position} unexpected bytes at its end.");
    }

    /// <summary>Disposes the optimiser and generator (never the networks).</summary>
    public void Dispose()
    {
        _adam?.Dispose();
        _radam?.Dispose();
        _gen.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "EDM step {Step}: loss {Loss}")]
        public static partial void StepDone(ILogger logger, long step, double loss);

        [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Teacher checkpoint at step {Step} written to {Path}")]
        public static partial void Checkpoint(ILogger logger, long step, string path);

        [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Teacher resumed at step {Step} from {Path}")]
        public static partial void Resumed(ILogger logger, long step, string path);

        [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "Teacher training diverged at step {Step}: loss {Loss}")]
        public static partial void Diverged(ILogger logger, long step, double loss);
    }
}
