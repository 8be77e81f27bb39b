using System;
using System.Linq;
using System.Threading;
using Ctm.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>Settings of EDM teacher training (Karras et al. 2022 defaults where they apply).</summary>
public sealed class EdmTrainingOptions
{
    /// <summary>Learning rate. EDM uses 1e-3 (Adam) for CIFAR-10.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Use RAdam instead of Adam.</summary>
    public bool UseRAdam { get; set; }

    /// <summary>μ of the weight EMA sampled from. 0.999.</summary>
    public double EmaRate { get; set; } = 0.999;

    /// <summary>P_mean of ln σ. −1.2.</summary>
    public double PMean { get; set; } = -1.2;

    /// <summary>P_std of ln σ. 1.2.</summary>
    public double PStd { get; set; } = 1.2;

    /// <summary>Seed of the trainer's generator.</summary>
    public ulong Seed { get; set; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!(LearningRate > 0)) throw new ArgumentException($"EdmTrainingOptions.LearningRate = {LearningRate}: must be > 0.", "options");
        if (!(EmaRate >= 0 && EmaRate < 1)) throw new ArgumentException($"EdmTrainingOptions.EmaRate = {EmaRate}: must lie in [0, 1).", "options");
        if (!(PStd > 0)) throw new ArgumentException($"EdmTrainingOptions.PStd = {PStd}: must be > 0.", "options");
    }
}

/// <summary>
/// Trains an EDM teacher by denoising score matching (<see cref="EdmLoss"/>) with Adam or RAdam and a weight EMA.
/// </summary>
/// <remarks>The networks are borrowed; the EMA network's parameters are set to requires_grad = false and initialised
/// as a copy. Each iteration runs in its own dispose scope. Sample from <see cref="EmaDenoiser"/>.</remarks>
public sealed class EdmTeacherTrainer : IDisposable
{
    private readonly EdmDenoiser _model, _ema;
    private readonly EdmTrainingOptions _o;
    private readonly OptimizerHelper? _adam;
    private readonly RectifiedAdam? _radam;
    private readonly Generator _gen;

    /// <summary>Creates the trainer.</summary>
    /// <param name="model">The denoiser being trained.</param>
    /// <param name="ema">A denoiser around a second instance of the same network (the EMA).</param>
    /// <param name="options">Settings.</param>
    public EdmTeacherTrainer(EdmDenoiser model, EdmDenoiser ema, EdmTrainingOptions? options = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _ema = ema ?? throw new ArgumentNullException(nameof(ema));
        if (ReferenceEquals(model.Network, ema.Network)) throw new ArgumentException("model and ema must wrap distinct network instances.", nameof(ema));
        _o = options ?? new EdmTrainingOptions();
        _o.Validate();
        Ema.Copy(ema.Network, model.Network);
        foreach (var p in ema.Network.parameters()) p.requires_grad_(false);
        if (_o.UseRAdam) _radam = new RectifiedAdam(model.Network.parameters(), _o.LearningRate);
        else _adam = optim.Adam(model.Network.parameters(), lr: _o.LearningRate);
        _gen = new Generator(_o.Seed, CPU);
    }

    /// <summary>Iterations completed.</summary>
    public long Step { get; private set; }

    /// <summary>The trainer's generator (draw data from it for reproducible runs).</summary>
    public Generator Generator => _gen;

    /// <summary>The EMA denoiser to sample from.</summary>
    public EdmDenoiser EmaDenoiser => _ema;

    /// <summary>One iteration; returns the mean loss.</summary>
    /// <param name="batch">Returns clean data and class ids (or null); disposed after the iteration.</param>
    /// <exception cref="TrainingDivergedException">The loss was not finite; no weight was changed.</exception>
    public double TrainStep(Func<Generator, (Tensor X0, Tensor? Labels)> batch)
    {
        if (batch is null) throw new ArgumentNullException(nameof(batch));
        using var scope = NewDisposeScope();
        var (x0, labels) = batch(_gen);
        _model.Network.train();
        _adam?.zero_grad();
        _radam?.ZeroGrad();
        var loss = EdmLoss.PerSample(_model, x0, _gen, labels, _o.PMean, _o.PStd).mean();
        double value = loss.detach().to_type(ScalarType.Float64).item<double>();
        if (!double.IsFinite(value))
            throw new TrainingDivergedException(Step, new CtmLossBreakdown(double.NaN, value, double.NaN, double.NaN, 1, 0, 0));
        loss.backward();
        _adam?.step();
        _radam?.Step();
        Ema.Update(_ema.Network, _model.Network, _o.EmaRate);
        Step++;
        return value;
    }

    /// <summary>Runs <paramref name="steps"/> iterations.</summary>
    /// <param name="batch">Batch callback.</param>
    /// <param name="steps">Iterations.</param>
    /// <param name="progress">Reports (step, loss) after each iteration.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    public void Train(Func<Generator, (Tensor X0, Tensor? Labels)> batch, long steps, IProgress<(long Step, double Loss)>? progress = null,
        CancellationToken cancellationToken = default)
    {
        for (long i = 0; i < steps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double l = TrainStep(batch);
            progress?.Report((i + 1, l));
        }
    }

    /// <summary>Disposes the optimiser and generator (never the networks).</summary>
    public void Dispose()
    {
        _adam?.Dispose();
        _radam?.Dispose();
        _gen.Dispose();
    }
}
