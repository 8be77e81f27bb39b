using System;
using System.Linq;
using Ctm.Core;
using Ctm.Core.Preconditioning;
using Ctm.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Benchmarks.Perf;

/// <summary>
/// Before/after of each optimisation in one run: the code as it was on main (replicated here verbatim) against the
/// library's current code, interleaved in process CPU time, 1 thread (perf --suites before-after).
/// </summary>
internal static class BeforeAfter
{
    public static void Run(double budget, Action<string> print)
    {
        set_num_threads(1);
        var device = PerfEnvironment.Device;
        print("| optimisation | case | before (ms) | after (ms) | after / before | rounds |");
        print("|---|---|---:|---:|---:|---:|");
        void Row(string what, string c, Action before, Action after)
        {
            var t = Interleaved.Measure(new[] { before, after }, 1, warmup: 1);
            int rounds = Interleaved.Rounds(t[0][0] + t[1][0], budget, 5, 3000);
            t = Interleaved.Measure(new[] { before, after }, rounds, warmup: 2);
            print($"| {what} | {c} | {Interleaved.Median(t[0]) * 1e3:F3} | {Interleaved.Median(t[1]) * 1e3:F3} | {Interleaved.MedianRatio(t[1], t[0]):F3} | {rounds} |");
        }

        foreach (var (net, b) in new[] { (PerfNet.Mlp, 256), (PerfNet.Mnist, 1), (PerfNet.Mnist, 64) })
        {
            using var s = PerfSubject.Create(net, device);
            using var g = new Generator(1);
            using var x = randn(s.BatchShape(b), generator: g).to(device);
            using var labels = s.Labels(b, g, device);
            using var tv = (rand(new long[] { b }, generator: g) * 10 + 1).to(device);
            using var sv = (tv * 0.5).to(device);
            using (no_grad())
            {
                Row("jump with one (t, s) for the batch: host scalings and checks", $"{net}, B={b}",
                    () => { using var y = OldJumpScalar(s, x, 20.0, 0.5, labels); },
                    () => { using var y = s.Model.Jump(x, 20.0, 0.5, labels); });
                Row("jump with per-sample (t, s), unchecked (training): fused scalings, lerp", $"{net}, B={b}",
                    () => { using var y = OldJumpVector(s, x, tv, sv, labels); },
                    () => { using var y = s.Model.JumpUnchecked(x, tv, sv, labels); });
            }
        }
        foreach (var net in new[] { PerfNet.Mlp, PerfNet.Mnist })
        {
            using var src = PerfSubject.Create(net, device, seed: 1);
            using var avg = PerfSubject.Create(net, device, seed: 2);
            var pairs = Ema.Pairs(avg.Network, src.Network);
            Row("EMA update: pairs matched once, lerp_ (1 kernel) for mul_ + add_", $"{net}, {src.Network.parameters().Count()} tensors",
                () => OldEmaUpdate(avg.Network, src.Network, 0.999), () => pairs.Update(0.999));
            var ps = src.Network.parameters().ToArray();
            using (var l = ps.Select(p => p.square().sum()).Aggregate((a, c) => a + c)) l.backward(); // gradients 2θ
            using var opt = new RectifiedAdam(ps, 1e-6);
            var old = new OldRadam(ps, 1e-6);
            Row("RAdam step (tried: lerp_ for the first moment; reverted, see docs/performance.md)", $"{net}, {ps.Length} tensors", old.Step, opt.Step);
            old.Dispose();
        }
        foreach (var (net, b) in new[] { (PerfNet.Mlp, 256), (PerfNet.Mnist, 64) })
        {
            // One teacher Heun step of the CTM loss's segment (per-sample grid times, no_grad).
            using var s = PerfSubject.Create(net, device, withTeacher: true);
            using var g = new Generator(4);
            var grid = Ctm.Core.Schedules.KarrasSchedule.Sigmas(17, s.Teacher!.SigmaMin, s.Teacher.SigmaMax, s.Teacher.Rho);
            using var gridT = tensor(grid, device: device);
            using var idx = randint(0, 16, new long[] { b }, generator: g).to(device);
            using var tCur = gridT.index_select(0, idx);
            using var tNext = gridT.index_select(0, idx + 1);
            using var x = randn(s.BatchShape(b), generator: g).to(device);
            using var labels = s.Labels(b, g, device);
            var teacher = new Ctm.Core.Models.UncheckedDenoiser(s.Teacher);
            using (no_grad())
                Row("teacher Heun step in the CTM loss: fused in-place updates, no zero test", $"{net}, B={b}",
                    () => { using var y = Ctm.Core.Solvers.HeunSolver.Instance.Step(teacher, x, tCur, tNext, labels); },
                    () => { using var y = Ctm.Core.Solvers.HeunSolver.StepPositiveNoGrad(teacher, x, tCur, tNext, labels); });
        }
        foreach (var (net, b) in new[] { (PerfNet.Mlp, 256), (PerfNet.Mnist, 16) })
        {
            // The CTM loss's estimate and target (k = 8 teacher Heun steps) and the backward through the estimate, on the
            // per-sample tensor scalings (before) and on the models' per-grid-index constants (after).
            using var rig = new TrainingRig(net, b, 8);
            void EstimateAndTarget(bool onGrid)
            {
                rig.Loss.UseGridConstants = onGrid;
                using var g = new Generator(5);
                using var scope = NewDisposeScope();
                var (e, tgt) = rig.Loss.EstimateAndTarget(rig.X0, rig.Labels, g, 8);
                (e - tgt).square().mean().backward();
            }
            Row("CTM loss estimate + target (k = 8) + backward: per-grid-index constants, fused teacher Heun on them", $"{net}, B={b}",
                () => EstimateAndTarget(false), () => EstimateAndTarget(true));
            rig.Loss.UseGridConstants = true;
        }
        foreach (int b in new[] { 1, 2 })
        {
            // One drift evaluation of the exact-divergence likelihood on the MNIST configuration (16×16×1, D = 256).
            using var s = PerfSubject.Create(PerfNet.Mnist, device);
            using var g = new Generator(3);
            long dims = s.SampleShape.Aggregate(1L, (p, q) => p * q);
            using var xFlat = (rand(new long[] { b, dims }, generator: g) * 2 - 1).to(device);
            using var labels = s.Labels(b, g, device);
            var shape = s.BatchShape(b);
            Row("exact divergence: one-hot VJPs on stacked copies (c·B ≈ 128 rows per pass) for D separate VJPs", $"Mnist, B={b}, one drift evaluation",
                () => { using var d = OldExactDrift(s.Model, xFlat, 0.5, shape, labels); },
                () => { using var d = Ctm.Core.Likelihood.ProbabilityFlowLikelihood.ExactDrift(s.Model, xFlat, 0.5, shape, ScalarType.Float32, labels); });
        }
    }

    /// <summary>ProbabilityFlowLikelihood's exact drift before: one vector–Jacobian product per dimension.</summary>
    private static Tensor OldExactDrift(IDenoiser model, Tensor xFlat, double sigma, long[] shape, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        long b = xFlat.shape[0], d = xFlat.shape[1];
        var xi = xFlat.detach().reshape(shape).requires_grad_(true);
        var flat = (xi - model.Denoise(xi, sigma, labels)).reshape(b, d);
        var div = zeros(b, ScalarType.Float64, xFlat.device);
        for (long i = 0; i < d; i++)
        {
            var gi = autograd.grad(new[] { flat.select(1, i).sum() }, new[] { xi }, retain_graph: i < d - 1)[0];
            div = div + gi.reshape(b, d).select(1, i).to(ScalarType.Float64);
        }
        return cat(new[] { flat.detach().to(ScalarType.Float64), div.detach().unsqueeze(1) }, 1).MoveToOuterDisposeScope();
    }

    // ---- main at da87eb2, replicated -------------------------------------------------------------------------

    /// <summary>CtmTrajectoryModel.Jump(x, double t, double s) before: scalar tensors, tensor checks, tensor scalings.</summary>
    private static Tensor OldJumpScalar(PerfSubject m, Tensor x, double t, double s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        var tt = tensor(t, dtype: x.dtype, device: x.device);
        var ss = tensor(s, dtype: x.dtype, device: x.device);
        var model = m.Model;
        TensorGuard.Batch(x, model.Device, "x");
        TensorGuard.DType(x, model.DType, "x");
        TensorGuard.Times(tt, x.shape[0], model.SigmaMin, model.SigmaMax, "t", "[σ_min, σ_max]");
        TensorGuard.Times(ss, x.shape[0], model.SigmaMin, model.SigmaMax, "s", "[σ_min, σ_max]");
        TensorGuard.NotAfter(tt, ss);
        TensorGuard.Labels(labels, x.shape[0], model.NumClasses, model.Device);
        return OldJumpVector(m, x, tt, ss, labels).MoveToOuterDisposeScope();
    }

    /// <summary>CtmTrajectoryModel.JumpUnchecked before.</summary>
    private static Tensor OldJumpVector(PerfSubject m, Tensor x, Tensor t, Tensor s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        double sd = m.Model.SigmaData;
        // PredictUnchecked
        var tb = TimeBroadcast.ToBatch(t, x);
        var xIn = EdmPreconditioning.CIn(TimeBroadcast.ToBatch(t, x), sd) * x;
        var f = m.RawForward(xIn, m.TimeInput(TimeBroadcast.ToVector(t, x)), m.TimeInput(TimeBroadcast.ToVector(s, x)), labels);
        var g = EdmPreconditioning.CSkip(tb, sd) * x + EdmPreconditioning.COut(tb, sd) * f;
        return CtmJump.Apply(x, g, TimeBroadcast.ToBatch(t, x), TimeBroadcast.ToBatch(s, x)).MoveToOuterDisposeScope();
    }

    /// <summary>Ema.Update before: names matched and shapes checked on every call, mul_ then add_.</summary>
    private static void OldEmaUpdate(nn.Module average, nn.Module source, double mu)
    {
        using var noGrad = no_grad();
        var avg = average.named_parameters().ToList();
        var src = source.named_parameters().ToList();
        var a = avg.Select(p => (p.name, p.parameter.shape)).ToList();
        var b = src.Select(p => (p.name, p.parameter.shape)).ToList();
        if (a.Count != b.Count) throw new InvalidOperationException();
        for (int i = 0; i < a.Count; i++)
            if (a[i].name != b[i].name || !a[i].shape.SequenceEqual(b[i].shape)) throw new InvalidOperationException();
        for (int i = 0; i < avg.Count; i++)
            avg[i].parameter.mul_(mu).add_(src[i].parameter, alpha: 1 - mu);
        var dst = average.named_buffers().ToList();
        var sb = source.named_buffers().ToDictionary(x => x.name, x => x.buffer);
        foreach (var (name, buffer) in dst)
            if (sb.TryGetValue(name, out var v) && v.shape.SequenceEqual(buffer.shape)) buffer.copy_(v);
    }

    /// <summary>RectifiedAdam.Step as on main (m updated with mul_ then add_; unchanged, lerp_ measured slower).</summary>
    private sealed class OldRadam : IDisposable
    {
        private readonly Parameter[] _params;
        private readonly Tensor?[] _m, _v;
        private long _step;
        private readonly double _lr;
        private const double Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;

        public OldRadam(Parameter[] ps, double lr) { _params = ps; _lr = lr; _m = new Tensor?[ps.Length]; _v = new Tensor?[ps.Length]; }

        public void Step()
        {
            _step++;
            double bc1 = 1 - Math.Pow(Beta1, _step), bc2 = 1 - Math.Pow(Beta2, _step);
            double rhoInf = 2 / (1 - Beta2) - 1;
            double rhoT = rhoInf - 2 * _step * Math.Pow(Beta2, _step) / bc2;
            double rect = rhoT > 5 ? Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
            using var noGrad = no_grad();
            for (int i = 0; i < _params.Length; i++)
            {
                var p = _params[i];
                var grad = p.grad;
                if (grad is null) continue;
                using var scope = NewDisposeScope();
                var g = grad;
                var m = _m[i] ??= zeros_like(p).DetachFromDisposeScope();
                var v = _v[i] ??= zeros_like(p).DetachFromDisposeScope();
                m.mul_(Beta1).add_(g, alpha: 1 - Beta1);
                v.mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
                if (rhoT > 5)
                    p.addcdiv_(m, v.sqrt().add_(Eps), value: -_lr * rect * Math.Sqrt(bc2) / bc1);
                else
                    p.add_(m, alpha: -_lr / bc1);
            }
        }

        public void Dispose()
        {
            foreach (var t in _m.Concat(_v)) t?.Dispose();
        }
    }
}
