using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Models;
using Ctm.Core.Schedules;
using Ctm.Core.Solvers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// The official CTM objective (Kim et al. 2024; <c>cm/karras_diffusion.py::ctm_losses</c>, CIFAR-10 defaults).
/// </summary>
/// <remarks>
/// Per iteration: k (P(k) ∝ k), per sample t &gt; u ≥ s on the N-point Karras grid, x_t = x_0 + t·z, then
/// <list type="number">
/// <item>estimate x_est = G_θ⁻(G_θ(x_t, t, s), s, σ_min) — gradient through the inner call <em>and through the input of
/// the outer call</em> (θ⁻ frozen, not under no_grad; §12 pitfall 5);</item>
/// <item>target x_tgt = G_θ⁻(sg[G_θ(Solver_φ(x_t, t → u), u, s)], s, σ_min) under no_grad, Solver = k Heun steps of the
/// teacher, or the target's own jump when teacher-free;</item>
/// <item>L_CTM = mean d(x_est, x_tgt); L_DSM = mean λ(σ)‖g_θ(x_σ, σ, σ) − x_0‖² with half the σ log-normal and half
/// Karras-uniform over [σ(0.7), σ_max]; L_G = −mean D(x_est);</item>
/// <item>λ_DSM = ‖∇_W L_CTM‖/(‖∇_W L_DSM‖ + 1e-4) ∈ [0, 1e4], λ_GAN likewise then clipped to [0.01, 10], W = the
/// last layer's weight.</item>
/// </list>
/// σ for DSM is clamped to [σ_min, σ_max] so any <see cref="ITrajectoryModel"/> accepts it (the official code does not
/// clamp; the clamped log-normal mass is ≈1.6e-5).
/// </remarks>
public sealed class CtmLoss : ICtmLoss, IDisposable
{
    private readonly ITrajectoryModel _student;
    private readonly double _rho;
    private readonly ITrajectoryModel _target;
    private readonly IDenoiser? _teacher;
    private readonly CtmTrainingOptions _o;
    private readonly IDistance _distance;
    private readonly Parameter? _lastLayer;
    private readonly nn.Module<Tensor, Tensor>? _discriminator;
    private readonly double[] _grid;
    private readonly PreconditionedModel? _teacherModel;
    private GridConstants? _studentGrid, _targetGrid, _teacherGrid;

    /// <summary>Creates the objective.</summary>
    /// <param name="student">G_θ, the model being trained.</param>
    /// <param name="target">G_θ⁻, the EMA target (its weights must not require gradients).</param>
    /// <param name="teacher">The teacher denoiser; may be null in teacher-free modes.</param>
    /// <param name="options">Training options.</param>
    /// <param name="distance">CTM distance; L2 by default.</param>
    /// <param name="lastLayerWeight">W for the adaptive weights (e.g. the output layer's weight); required when
    /// <see cref="CtmTrainingOptions.AdaptiveWeights"/> is on.</param>
    /// <param name="discriminator">Discriminator returning logits (shape [B] or [B, …], averaged); required with the GAN.</param>
    public CtmLoss(ITrajectoryModel student, ITrajectoryModel target, IDenoiser? teacher, CtmTrainingOptions options,
        IDistance? distance = null, Parameter? lastLayerWeight = null, nn.Module<Tensor, Tensor>? discriminator = null)
    {
        _student = student ?? throw new ArgumentNullException(nameof(student));
        _target = target ?? throw new ArgumentNullException(nameof(target));
        _o = (options ?? throw new ArgumentNullException(nameof(options))).Clone();
        _o.Validate();
        if (_o.TeacherMode == TeacherMode.Teacher && teacher is null)
            throw new ArgumentNullException(nameof(teacher), "TeacherMode.Teacher needs a teacher denoiser; pass one or choose TeacherMode.SelfTeacher.");
        if (_o.AdaptiveWeights && lastLayerWeight is null && (_o.DsmWeight > 0 || _o.GanEnabled))
            throw new ArgumentNullException(nameof(lastLayerWeight), "Adaptive weights need the last layer's weight (e.g. TrajectoryMlp.OutputLayer.weight); or set AdaptiveWeights = false.");
        if (lastLayerWeight is not null)
        {
            // A weight outside the student (e.g. the target network's, which the trainer freezes) has no gradient from
            // the loss, so the adaptive weights would silently be 0 forever.
            if (lastLayerWeight.IsInvalid) throw new ArgumentException("lastLayerWeight has been disposed.", nameof(lastLayerWeight));
            if (!lastLayerWeight.requires_grad)
                throw new ArgumentException("lastLayerWeight does not require gradients, so the adaptive weights would be 0 forever; pass the student's " +
                    "output-layer weight (e.g. TrajectoryMlp.OutputLayer.weight of the network inside student).", nameof(lastLayerWeight));
            if (student is ITrainableModel trainable && !trainable.Network.parameters().Any(q => q.Handle == lastLayerWeight.Handle))
                throw new ArgumentException("lastLayerWeight is not a parameter of the student's network (the target's or another copy?), so the adaptive " +
                    "weights would be 0 forever; pass the student's output-layer weight.", nameof(lastLayerWeight));
        }
        if (_o.GanEnabled && discriminator is null)
            throw new ArgumentNullException(nameof(discriminator), "GanEnabled needs a discriminator network.");
        CheckSameSchedule(student, target, nameof(target));
        if (teacher is not null) CheckSameSchedule(student, teacher, nameof(teacher));
        _teacher = teacher is null ? null : new UncheckedDenoiser(teacher);
        _teacherModel = teacher as PreconditionedModel;
        _distance = distance ?? Distances.L2;
        _lastLayer = lastLayerWeight;
        _discriminator = discriminator;
        // ρ of the student's schedule, for the training grid and the DSM's Karras-uniform σ draws.
        _rho = student.Rho;
        _grid = KarrasSchedule.Sigmas(_o.GridPoints, student.SigmaMin, student.SigmaMax, _rho);
    }

    /// <inheritdoc />
    public nn.Module? Discriminator => _discriminator;

    /// <summary>Whether student, target and teacher built by this library run on per-grid-index constants
    /// (<see cref="GridConstants"/>); off = the per-sample tensor scalings (the before/after benchmark and the equivalence test).</summary>
    internal bool UseGridConstants { get; set; } = true;

    /// <summary>The training grid t_0 = σ_max &gt; … &gt; t_{N−1} = σ_min.</summary>
    public double[] Grid => (double[])_grid.Clone();

    /// <inheritdoc />
    public CtmLossResult GeneratorLoss(Tensor x0, Tensor? labels, Generator generator, bool withGan)
    {
        CheckBatch(x0, labels);
        if (generator is null) throw new ArgumentNullException(nameof(generator));
        if (withGan && _discriminator is null) throw new InvalidOperationException("withGan needs a discriminator (construct the loss with one).");
        using var scope = NewDisposeScope();
        int k = CtmTimeSampler.SampleSteps(_o.MaxTeacherSteps, _o.StepStrategy, generator);
        var (xEst, xTgt) = EstimateAndTarget(x0, labels, generator, k);
        var lCtm = _distance.Compute(xEst, xTgt).mean();
        if (xEst.requires_grad && !lCtm.requires_grad)
            throw new InvalidOperationException("The CTM distance returned a value without a gradient: a custom distance must be differentiable " +
                "in its first argument (the estimate) and must not detach it or build a new tensor from numbers.");

        Tensor? lDsm = _o.DsmWeight > 0 ? DsmLoss(x0, labels, generator) : null;
        Tensor? lG = withGan
            ? GanGeneratorLoss(_o.GanSpecificTime ? DrawEstimate(x0, labels, generator, _o.GanMaxTeacherSteps, _o.GanStepStrategy).Estimate : xEst)
            : null;

        double lambdaDsm = 1, lambdaGan = withGan ? 1 : 0;
        if (_o.AdaptiveWeights && (lDsm is not null || lG is not null))
        {
            double gCtm = GradNorm(lCtm);
            if (lDsm is not null) lambdaDsm = Math.Clamp(gCtm / (GradNorm(lDsm) + 1e-4), 0, 1e4);
            if (lG is not null) lambdaGan = Math.Clamp(Math.Clamp(gCtm / (GradNorm(lG) + 1e-4), 0, 1e4), 0.01, 10);
        }
        var total = lCtm;
        if (lDsm is not null) total = total + _o.DsmWeight * lambdaDsm * lDsm;
        if (lG is not null) total = total + _o.GanWeight * lambdaGan * lG;
        var terms = new Dictionary<string, double> { [CtmLossTerms.Ctm] = Item(lCtm) };
        var weights = new Dictionary<string, double>();
        if (lDsm is not null) { terms[CtmLossTerms.Dsm] = Item(lDsm); weights[CtmLossTerms.Dsm] = lambdaDsm; }
        if (lG is not null) { terms[CtmLossTerms.GanGenerator] = Item(lG); weights[CtmLossTerms.GanGenerator] = lambdaGan; }
        var breakdown = new CtmLossBreakdown(terms, weights, k);
        return new CtmLossResult(total.MoveToOuterDisposeScope(), breakdown);
    }

    /// <inheritdoc />
    public CtmLossResult DiscriminatorLoss(Tensor x0, Tensor? labels, Generator generator)
    {
        CheckBatch(x0, labels);
        if (_discriminator is null) throw new InvalidOperationException("This loss has no discriminator.");
        using var scope = NewDisposeScope();
        Tensor fake;
        int k;
        using (no_grad())
            (fake, k) = _o.GanSpecificTime
                ? DrawEstimate(x0, labels, generator, _o.GanMaxTeacherSteps, _o.GanStepStrategy)
                : DrawEstimate(x0, labels, generator, _o.MaxTeacherSteps, _o.StepStrategy);
        var realLogits = _discriminator.call(x0);
        var fakeLogits = _discriminator.call(fake.detach());
        var loss = HingeLoss(realLogits, fakeLogits);
        var terms = new Dictionary<string, double> { [CtmLossTerms.GanDiscriminator] = Item(loss) };
        return new CtmLossResult(loss.MoveToOuterDisposeScope(), new CtmLossBreakdown(terms, k: k));
    }

    /// <summary>The discriminator's hinge loss mean(relu(1 − D(real))) + mean(relu(1 + D(fake))) (official
    /// <c>d_loss</c>); also what the discriminator studies train with.</summary>
    internal static Tensor HingeLoss(Tensor realLogits, Tensor fakeLogits) =>
        nn.functional.relu(1 - realLogits).mean() + nn.functional.relu(1 + fakeLogits).mean();

    /// <summary>x_est (with graph) and x_tgt (without) for one draw of (k, t, u, s, z).</summary>
    internal (Tensor Estimate, Tensor Target) EstimateAndTarget(Tensor x0, Tensor? labels, Generator generator, int k, bool estimateOnly = false)
    {
        using var scope = NewDisposeScope();
        long b = x0.shape[0];
        var grid = tensor(_grid, dtype: x0.dtype, device: x0.device);
        var (iT, iU, iS) = CtmTimeSampler.SampleIndices(b, _o.GridPoints, k, generator, x0.device);
        var t = grid.index_select(0, iT);
        Tensor xt;
        Tensor? xuBank = null;
        if (Bank(x0) is { } bank)
        {
            // x_t and the teacher's x_u from one solved trajectory (TrajectoryBankSize); no teacher call here.
            var rows = bank.DrawRows(b, generator, x0.device);
            xt = bank.At(iT, rows);
            if (!estimateOnly) xuBank = bank.At(iU, rows);
            labels = bank.Labels(rows) ?? labels;
        }
        else
        {
            var z = Sampling.Noise.Normal(x0.shape, x0.dtype, x0.device, generator);
            xt = x0 + TimeBroadcast.ToBatch(t, x0) * z;
        }
        if (GridModels(x0) is { } models) return OnGrid(models, xt, xuBank, grid, iT, iU, iS, k, labels, estimateOnly);

        var u = grid.index_select(0, iU);
        var s = grid.index_select(0, iS);
        var sMin = full(new[] { b }, _student.SigmaMin, dtype: x0.dtype, device: x0.device);

        // 1. estimate: G_θ⁻(G_θ(x_t, t, s), s, σ_min), gradient through the inner call and the outer call's input
        var xEst = Unchecked.Jump(_target, Unchecked.Jump(_student, xt, t, s, labels), s, sMin, labels);
        if (estimateOnly) return (xEst.MoveToOuterDisposeScope(), xEst);

        // 2. target: G_θ⁻(sg[G_θ(x_u, u, s)], s, σ_min), all without gradient
        Tensor xTgt;
        using (no_grad())
        {
            var xu = xuBank ?? TrajectorySegment(xt, grid, iT, k, t, u, labels);
            xTgt = Unchecked.Jump(_target, Unchecked.Jump(_student, xu, u, s, labels).detach(), s, sMin, labels).detach();
        }
        return (xEst.MoveToOuterDisposeScope(), xTgt.MoveToOuterDisposeScope());
    }

    /// <summary>Student and target as this library's models with their grid constants, or null (another
    /// <see cref="ITrajectoryModel"/>, or <see cref="UseGridConstants"/> off).</summary>
    private GridModelSet? GridModels(Tensor x0)
    {
        if (!UseGridConstants || _student is not CtmTrajectoryModel student || _target is not CtmTrajectoryModel target) return null;
        _studentGrid = Fresh(_studentGrid, student, x0);
        _targetGrid = Fresh(_targetGrid, target, x0);
        if (_teacherModel is not null) _teacherGrid = Fresh(_teacherGrid, _teacherModel, x0);
        return new GridModelSet(student, target, _studentGrid, _targetGrid);
    }

    private sealed record GridModelSet(CtmTrajectoryModel Student, CtmTrajectoryModel Target, GridConstants StudentGrid, GridConstants TargetGrid);

    private GridConstants Fresh(GridConstants? cached, PreconditionedModel model, Tensor x0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (cached is not null && cached.Serves(x0.dtype, x0.device)) return cached;
        cached?.Dispose();
        GridConstantBuilds++;
        return model.OnGrid(_grid, x0.dtype, x0.device);
    }

    /// <summary>How many <see cref="GridConstants"/> this loss has built (3 per dtype/device for student, target and
    /// teacher); the test that they are reused reads it.</summary>
    internal int GridConstantBuilds { get; private set; }

    private bool _disposed;
    private TeacherTrajectoryBank? _bank;

    /// <summary>The teacher-trajectory bank for x_0's shape, dtype and device, solved at the first call that needs it;
    /// null when <see cref="CtmTrainingOptions.TrajectoryBankSize"/> is 0.</summary>
    private TeacherTrajectoryBank? Bank(Tensor x0)
    {
        if (_o.TrajectoryBankSize == 0) return null;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_bank is not null && _bank.Serves(x0)) return _bank;
        _bank?.Dispose();
        _bank = null;
        using var outer = NewDisposeScope();
        // Solve in chunks of about 2^20 values per teacher call (few launches), except for small samples on the CPU: about
        // 2^13 values, so a vector network's activations stay close to the core (2-D, hidden 128: 4,096 trajectories per
        // call solve the 65,536-trajectory bank in ~20 s instead of ~38 s, docs/performance.md). The bank's noise is drawn
        // before solving, so the chunk changes only the speed (up to the last bits of the teacher's matrix products); it
        // never depends on the batch.
        long perSample = Math.Max(1, x0.numel() / Math.Max(1, x0.shape[0]));
        long values = x0.device_type == DeviceType.CPU && perSample <= 64 ? 1L << 13 : 1L << 20;
        long chunk = Math.Max(1, Math.Min(_o.TrajectoryBankSize, Math.Max(values / perSample, 16)));
        _bank = TeacherTrajectoryBank.Build(_teacher!, _grid, _o.TrajectoryBankSize, x0.shape[1..], chunk,
            _o.Seed ^ 0x9E3779B97F4A7C15UL, x0.dtype, x0.device);
        return _bank;
    }

    /// <summary>Releases the grid constants the loss keeps for the library's own models (a few hundred bytes per model)
    /// and the teacher-trajectory bank, if any;
    /// the models, networks and discriminator are borrowed and stay untouched. Calls after this throw.</summary>
    public void Dispose()
    {
        _disposed = true;
        _studentGrid?.Dispose(); _targetGrid?.Dispose(); _teacherGrid?.Dispose(); _bank?.Dispose();
        _bank = null;
        _studentGrid = _targetGrid = _teacherGrid = null;
    }

    /// <summary>The same estimate and target as the general path, on gathered grid constants.</summary>
    private (Tensor Estimate, Tensor Target) OnGrid(GridModelSet m, Tensor xt, Tensor? xuBank, Tensor grid, Tensor iT, Tensor iU, Tensor iS, int k,
        Tensor? labels, bool estimateOnly)
    {
        var (student, target, studentGrid, targetGrid) = m;
        var iMin = full(new[] { xt.shape[0] }, _grid.Length - 1, dtype: ScalarType.Int64, device: xt.device);
        var studentS = studentGrid.Rows(iS, xt);
        var targetS = targetGrid.Rows(iS, xt);
        var targetMin = targetGrid.Rows(iMin, xt);
        var xEst = target.JumpRows(student.JumpRows(xt, studentGrid.Rows(iT, xt), studentS, labels), targetS, targetMin, labels);
        if (estimateOnly) return (xEst.MoveToOuterDisposeScope(), xEst);
        Tensor xTgt;
        using (no_grad())
        {
            var xu = xuBank ?? (_o.TeacherMode == TeacherMode.Teacher && _teacherGrid is { } teacherGrid
                ? HeunSolver.SegmentRowsNoGrad(_teacherModel!, teacherGrid, xt, iT, k, labels)
                : TrajectorySegment(xt, grid, iT, k, grid.index_select(0, iT), grid.index_select(0, iU), labels));
            xTgt = target.JumpRows(student.JumpRows(xu, studentGrid.Rows(iU, xt), studentS, labels), targetS, targetMin, labels);
        }
        return (xEst.MoveToOuterDisposeScope(), xTgt.MoveToOuterDisposeScope());
    }

    /// <summary>x_u from x_t: k teacher Heun steps along the grid, or the target's own jump(s).</summary>
    private Tensor TrajectorySegment(Tensor xt, Tensor grid, Tensor iT, int k, Tensor t, Tensor u, Tensor? labels)
    {
        if (_o.TeacherMode == TeacherMode.SelfTeacher) return Unchecked.Jump(_target, xt, t, u, labels);
        var x = xt.alias();
        for (int j = 0; j < k; j++)
        {
            using var step = NewDisposeScope();
            var tCur = grid.index_select(0, iT + j);
            var tNext = grid.index_select(0, iT + j + 1);
            var next = (_o.TeacherMode == TeacherMode.Teacher
                ? HeunSolver.StepPositiveNoGrad(_teacher!, x, tCur, tNext, labels)
                : Unchecked.Jump(_target, x, tCur, tNext, labels)).MoveToOuterDisposeScope();
            x.Dispose();
            x = next;
        }
        return x;
    }

    /// <summary>L_DSM on the diagonal with the half log-normal / half Karras-uniform σ draws.</summary>
    private Tensor DsmLoss(Tensor x0, Tensor? labels, Generator generator)
    {
        using var scope = NewDisposeScope();
        long b = x0.shape[0], half = b / 2;
        var lognormal = (Sampling.Noise.Normal(new[] { half }, ScalarType.Float64, x0.device, generator) * _o.DsmPStd + _o.DsmPMean).exp();
        var r = rand(new[] { b - half }, dtype: ScalarType.Float64, device: generator.device, generator: generator).to(x0.device) * _o.DsmUniformFraction;
        // σ(r) = (σ_max^{1/ρ} + r (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, r ~ U[0, DsmUniformFraction)
        double maxInv = Math.Pow(_student.SigmaMax, 1 / _rho), minInv = Math.Pow(_student.SigmaMin, 1 / _rho);
        var karras = (maxInv + r * (minInv - maxInv)).pow(_rho);
        var sigma = cat(new[] { lognormal, karras }).clamp(_student.SigmaMin, _student.SigmaMax).to_type(x0.dtype);
        return EdmLoss.WeightedError(new UncheckedDenoiser(_student), x0, sigma, generator, labels, _student.SigmaData).mean().MoveToOuterDisposeScope();
    }

    /// <summary>A GAN fake: the estimate of a fresh (k, t, s, z) draw with k from {1..<paramref name="maxSteps"/>} (the CTM
    /// term's K, or K′ of <see cref="CtmTrainingOptions.GanSpecificTime"/>); with graph unless called under no_grad.</summary>
    private (Tensor Estimate, int K) DrawEstimate(Tensor x0, Tensor? labels, Generator generator, int maxSteps, HeunStepStrategy strategy)
    {
        int k = CtmTimeSampler.SampleSteps(maxSteps, strategy, generator);
        return (EstimateAndTarget(x0, labels, generator, k, estimateOnly: true).Estimate, k);
    }

    private Tensor GanGeneratorLoss(Tensor xEst)
    {
        using var scope = NewDisposeScope();
        return (-_discriminator!.call(xEst).mean()).MoveToOuterDisposeScope();
    }

    /// <summary>‖∇_W L‖ at the last layer, keeping the graph for the final backward.</summary>
    private double GradNorm(Tensor loss)
    {
        // autograd.grad on a graph-less tensor aborts the process in libtorch instead of throwing: check first.
        if (!loss.requires_grad || !_lastLayer!.requires_grad) return 0.0;
        using var scope = NewDisposeScope();
        var g = autograd.grad(new[] { loss }, new Tensor[] { _lastLayer! }, retain_graph: true, allow_unused: true)[0];
        return g is null || g.IsInvalid ? 0.0 : g.norm().to_type(ScalarType.Float64).item<double>();
    }

    private static double Item(Tensor t)
    {
        using var d = t.detach().to_type(ScalarType.Float64);
        return d.item<double>();
    }

    private static void CheckSameSchedule(IDenoiser student, IDenoiser other, string paramName)
    {
        if (student.SigmaMin != other.SigmaMin || student.SigmaMax != other.SigmaMax || student.SigmaData != other.SigmaData || student.Rho != other.Rho)
            throw new ArgumentException($"{paramName} has the schedule (σ_min {other.SigmaMin}, σ_max {other.SigmaMax}, σ_data {other.SigmaData}, ρ {other.Rho}) " +
                $"but the student has (σ_min {student.SigmaMin}, σ_max {student.SigmaMax}, σ_data {student.SigmaData}, ρ {student.Rho}); " +
                "build every model of one training run with the same CtmOptions.", paramName);
    }

    private void CheckBatch(Tensor x0, Tensor? labels)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (x0 is null) throw new ArgumentNullException(nameof(x0));
        TensorGuard.Batch(x0, _student.Device, nameof(x0));
        TensorGuard.DType(x0, _student.DType, nameof(x0));
        TensorGuard.Labels(labels, x0.shape[0], _student.NumClasses, _student.Device);
        if (x0.dim() < 2 || x0.shape[0] < 2)
            throw new ArgumentException($"x0 must be a batch [B, …] with B ≥ 2 (DSM splits it in halves), got [{string.Join(", ", x0.shape)}].", nameof(x0));
    }
}
