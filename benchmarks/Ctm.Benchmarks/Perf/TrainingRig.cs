using System;
using Ctm.Core;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Solvers;
using Ctm.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Benchmarks.Perf;

/// <summary>
/// A CTM training set-up at a real size (student, EMA target, evaluation EMA, teacher, the official loss with DSM and
/// adaptive weights, RAdam), plus the bare network passes one iteration needs, for the iteration-vs-passes ratio and
/// the phase breakdown. The GAN is off (its passes are reported on their own).
/// </summary>
internal sealed class TrainingRig : IDisposable
{
    private readonly PerfSubject _student, _target, _ema;
    private readonly Tensor _x0;
    private readonly Tensor? _labels;
    private readonly Tensor _xIn, _tT, _tS, _tU, _tMin, _tDsm;
    private readonly Func<Generator, (Tensor, Tensor?)> _batch;

    public TrainingRig(PerfNet net, int batch, int maxTeacherSteps, ulong seed = 3)
    {
        var device = PerfEnvironment.Device;
        Net = net; Batch = batch; MaxTeacherSteps = maxTeacherSteps;
        _student = PerfSubject.Create(net, device, withTeacher: true, seed: seed);
        _target = PerfSubject.Create(net, device, seed: seed);
        _ema = PerfSubject.Create(net, device, seed: seed);
        _student.Network.train();
        Options = new CtmTrainingOptions { GridPoints = 18, MaxTeacherSteps = maxTeacherSteps, Seed = seed, TargetEmaRate = 0.999, EvalEmaRate = 0.999 };
        Loss = new CtmLoss(_student.Model, _target.Model, _student.Teacher, Options, lastLayerWeight: _student.LastLayer);
        Trainer = new CtmTrainer(_student.Model, _target.Model, _ema.Model, Loss, Options);
        using var g = new Generator(seed + 1);
        _x0 = (randn(_student.BatchShape(batch), generator: g) * 0.5).to(device);
        _labels = _student.Labels(batch, g, device);
        _batch = _ => (_x0.alias(), _labels?.alias());
        // Inputs of the bare passes: any x_in, and per-sample times drawn as an iteration draws them (t, u = the next grid
        // point, s ∈ [u, σ_min] from the training grid; σ_min for the outer jump; a continuous log-normal σ for DSM). The
        // values do not matter, but how many distinct times a batch holds does: the vector networks evaluate their time
        // branches once per distinct time (DistinctTimes), so constant times would make the passes too cheap.
        _xIn = randn(_student.BatchShape(batch), generator: g).to(device);
        var model = _student.Model;
        using var grid = tensor(Ctm.Core.Schedules.KarrasSchedule.Sigmas(Options.GridPoints, model.SigmaMin, model.SigmaMax, model.Rho));
        using var iT = randint(0, Options.GridPoints - 1, new long[] { batch }, generator: g);
        using var iU = iT + 1;
        using var iS = (iU + (rand(new long[] { batch }, dtype: ScalarType.Float64, generator: g) * (Options.GridPoints - iU)).floor().to_type(ScalarType.Int64))
            .clamp_max(Options.GridPoints - 1);
        using var dsm = (randn(new long[] { batch }, dtype: ScalarType.Float64, generator: g) * 1.2 - 1.2).exp().clamp(model.SigmaMin, model.SigmaMax);
        Tensor Time(Tensor sigma) { using var s = sigma.to_type(ScalarType.Float32).to(device); return _student.TimeInput(s); }
        Tensor OnGrid(Tensor index) { using var s = grid.index_select(0, index); return Time(s); }
        using var sMin = full(new long[] { batch }, model.SigmaMin);
        _tT = OnGrid(iT); _tS = OnGrid(iS); _tU = OnGrid(iU); _tMin = Time(sMin); _tDsm = Time(dsm);
    }

    public PerfNet Net { get; }
    public int Batch { get; }
    public int MaxTeacherSteps { get; }
    public CtmTrainingOptions Options { get; }
    public CtmLoss Loss { get; }
    public CtmTrainer Trainer { get; }
    public PerfSubject Student => _student;
    public ITrajectoryModel StudentModel => _student.Model;
    public ITrajectoryModel TargetModel => _target.Model;
    public nn.Module StudentNetwork => _student.Network;
    public nn.Module TargetNetwork => _target.Network;
    public nn.Module EmaNetwork => _ema.Network;
    public Tensor X0 => _x0;
    public Tensor? Labels => _labels;

    /// <summary>One trainer iteration (generator update, both EMAs).</summary>
    public CtmLossBreakdown Iteration()
    {
        var b = Trainer.TrainStep(_batch);
        PerfEnvironment.Sync();
        return b;
    }

    /// <summary>
    /// The network passes of one generator iteration with k teacher steps, and nothing else: the estimate's student
    /// forward (with graph) and target forward (graph to its input), 2k teacher evaluations (Heun, the last step ends at
    /// σ_min &gt; 0), the target's student and target forwards without graph, the DSM forward, and one backward through
    /// all the graphs. With <paramref name="adaptive"/>, also the adaptive weights' two gradient calls at the last layer.
    /// </summary>
    public void Passes(int k, bool adaptive)
    {
        using var scope = NewDisposeScope();
        var f1 = _student.RawForward(_xIn, _tT, _tS, _labels);
        var f2 = _target.RawForward(f1, _tS, _tMin, _labels);
        using (no_grad())
        {
            for (int j = 0; j < 2 * k; j++) _student.TeacherRawForward(_xIn, _tU, _labels);
            var fu = _student.RawForward(_xIn, _tU, _tS, _labels);
            _target.RawForward(fu, _tS, _tMin, _labels);
        }
        var f3 = _student.RawForward(_xIn, _tDsm, _tDsm, _labels);
        var lCtm = f2.square().mean();
        var lDsm = f3.square().mean();
        if (adaptive)
        {
            autograd.grad(new[] { lCtm }, new Tensor[] { _student.LastLayer }, retain_graph: true, allow_unused: true);
            autograd.grad(new[] { lDsm }, new Tensor[] { _student.LastLayer }, retain_graph: true, allow_unused: true);
        }
        (lCtm + lDsm).backward();
        foreach (var p in _student.Network.parameters()) p.grad?.zero_();
        PerfEnvironment.Sync();
    }

    public void Dispose()
    {
        Trainer.Dispose();
        Loss.Dispose();
        _student.Dispose(); _target.Dispose(); _ema.Dispose();
        _x0.Dispose(); _labels?.Dispose(); _xIn.Dispose();
        _tT.Dispose(); _tS.Dispose(); _tU.Dispose(); _tMin.Dispose(); _tDsm.Dispose();
    }
}
