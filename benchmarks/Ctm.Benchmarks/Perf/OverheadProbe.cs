using System;
using System.Collections.Generic;
using Ctm.Core.Sampling;
using Ctm.Core.Solvers;
using Ctm.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks.Perf;

/// <summary>
/// The overhead probes behind the optimisations' before/after numbers (perf --suites probe): each is a ratio to the
/// bare network passes it wraps, interleaved in process CPU time, 1 thread, so it is comparable across builds on a
/// loaded machine.
/// </summary>
internal static class OverheadProbe
{
    public static void Run(double budget, Action<string> print)
    {
        set_num_threads(1);
        var device = PerfEnvironment.Device;
        print("| probe | baseline (ms) | probe (ms) | ratio | rounds |");
        print("|---|---:|---:|---:|---:|");
        void Row(string name, Action baseline, Action probe)
        {
            var t = Interleaved.Measure(new[] { baseline, probe }, 1, warmup: 1);
            int rounds = Interleaved.Rounds(t[0][0] + t[1][0], budget, 5, 2000);
            t = Interleaved.Measure(new[] { baseline, probe }, rounds, warmup: 2);
            print($"| {name} | {Interleaved.Median(t[0]) * 1e3:F3} | {Interleaved.Median(t[1]) * 1e3:F3} | {Interleaved.MedianRatio(t[1], t[0]):F3} | {rounds} |");
        }

        using (var mlp = PerfSubject.Create(PerfNet.Mlp, device, withTeacher: true))
        using (var g = new Generator(1))
        {
            foreach (int b in new[] { 256, 4096 })
            {
                var x = randn(new long[] { b, 2 }, generator: g);
                var c = full(new long[] { b }, 0.25);
                var t0 = full(new long[] { b }, 2.0); var t1 = full(new long[] { b }, 1.5);
                Row($"MLP B={b}: teacher Heun step (2 evaluations) / 2 teacher forwards",
                    () => { using var _ = no_grad(); using var f1 = mlp.TeacherRawForward(x, c, null); using var f2 = mlp.TeacherRawForward(x, c, null); },
                    () => { using var _ = no_grad(); using var y = HeunSolver.Instance.Step(new Ctm.Core.Models.UncheckedDenoiser(mlp.Teacher!), x, t0, t1); });
                var sampler = new GammaSampler(mlp.Model, mlp.SampleShape);
                var cs = full(new long[] { b }, -1.5);
                Row($"MLP B={b}: γ-sampling NFE 1 / 1 forward",
                    () => { using var _ = no_grad(); using var f = mlp.RawForward(x, c, cs, null); },
                    () => { using var y = sampler.Sample(b, 0.0, 1, generator: g); });
                x.Dispose(); c.Dispose(); t0.Dispose(); t1.Dispose(); cs.Dispose();
            }
        }
        using (var mnist = PerfSubject.Create(PerfNet.Mnist, device))
        using (var g = new Generator(1))
        {
            foreach (int b in new[] { 1, 8 })
            {
                var x = randn(mnist.BatchShape(b), generator: g);
                var c = full(new long[] { b }, 0.25); var cs = full(new long[] { b }, -1.5);
                var y = mnist.Labels(b, g, device);
                var sampler = new GammaSampler(mnist.Model, mnist.SampleShape);
                Row($"MNIST B={b}: γ-sampling NFE 1 / 1 forward",
                    () => { using var _ = no_grad(); using var f = mnist.RawForward(x, c, cs, y); },
                    () => { using var s = sampler.Sample(b, 0.0, 1, y, g); });
                x.Dispose(); c.Dispose(); cs.Dispose(); y?.Dispose();
            }
        }
        foreach (var (net, b) in new[] { (PerfNet.Mlp, 256), (PerfNet.Mnist, 16) })
        {
            using var rig = new TrainingRig(net, b, 1);
            Row($"{net} B={b} K=1: CtmTrainer iteration / (passes + adaptive grads)", () => rig.Passes(1, adaptive: true), () => rig.Iteration());
            using var opt = new RectifiedAdam(rig.StudentNetwork.parameters(), 1e-4);
            rig.Passes(1, adaptive: false); // leaves zeroed gradients
            Row($"{net} B={b}: 2 EMA updates / 1 RAdam step (absolute ms in the columns)", () => opt.Step(),
                () => { Ema.Update(rig.TargetNetwork, rig.StudentNetwork, 0.999); Ema.Update(rig.EmaNetwork, rig.StudentNetwork, 0.999); });
        }
    }
}
