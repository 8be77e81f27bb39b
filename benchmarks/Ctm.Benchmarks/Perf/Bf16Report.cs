using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctm.Core.Checkpoints;
using Ctm.Core.Diagnostics;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Samples.Mnist;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks.Perf;

/// <summary>
/// bfloat16 inference: speed against float32 (interleaved CPU time, part of <c>perf</c>), and the MNIST quality check
/// (<c>perf-bf16 --ctm FILE</c>): FD between bfloat16 and float32 samples drawn with the same noise, against the FD
/// between two float32 runs with different noise (the run-to-run floor), in the MNIST classifier's feature space.
/// </summary>
internal static class Bf16Report
{
    /// <summary>NFE-1 γ-sampling in float32 vs the same network's weights in bfloat16, interleaved, 1 thread.</summary>
    public static void Speed(bool quick, double budget, Action<string> print, Action<string, double, string, double> target)
    {
        set_num_threads(1);
        var device = PerfEnvironment.Device;
        print("| network | batch | float32 NFE 1 (ms) | bfloat16 NFE 1 (ms) | bf16 / fp32 | max abs difference | rounds |");
        print("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (net, b) in quick ? new[] { (PerfNet.Mnist, 64) } : new[] { (PerfNet.Mnist, 64), (PerfNet.Cifar10, 8) })
        {
            using var fp = PerfSubject.Create(net, device);
            using var bf = PerfSubject.Create(net, device);
            bf.Network.to(ScalarType.BFloat16);
            var sf = new GammaSampler(fp.Model, fp.SampleShape);
            var sb = new GammaSampler(bf.Model, bf.SampleShape);
            using var g = new Generator(1);
            using var labels = fp.Labels(b, g, device);
            using var g1 = new Generator(2);
            using var g2 = new Generator(2);
            var actions = new Action[] { () => { using var x = sf.Sample(b, 0.0, 1, labels, g1); }, () => { using var x = sb.Sample(b, 0.0, 1, labels, g2); } };
            var probe = Interleaved.Measure(actions, 1, warmup: 1);
            int rounds = Interleaved.Rounds(probe[0][0] + probe[1][0], budget, 3, 200);
            var t = Interleaved.Measure(actions, rounds, warmup: 1);
            double diff;
            using (var ga = new Generator(3)) using (var gb = new Generator(3))
            using (var xa = sf.Sample(b, 0.0, 1, labels, ga)) using (var xb = sb.Sample(b, 0.0, 1, labels, gb))
                diff = (xa - xb).abs().max().item<float>();
            double ratio = Interleaved.MedianRatio(t[1], t[0]);
            print($"| {net} | {b} | {Interleaved.Median(t[0]) * 1e3:F1} | {Interleaved.Median(t[1]) * 1e3:F1} | {ratio:F2} | {diff:G3} | {rounds} |");
            Console.WriteLine($"INFO  bfloat16 / float32 NFE-1 time [{net}, B={b}]: {ratio:F2}×");
        }
    }

    /// <summary>The MNIST FD check on a trained CTM.</summary>
    public static int Quality(string ctmPath, string? cache, string data, int seeds)
    {
        set_num_threads(1); // a shared machine: one core
        var sw = Stopwatch.StartNew();
        void Log(string s) => Console.WriteLine($"[{sw.Elapsed:mm\\:ss}] {s}");
        var config = new MnistConfig { CacheDir = cache };
        using var p = new MnistPipeline(config, data, Log);
        p.TrainClassifier();
        using var fp = TrainedModel.Load(ctmPath);
        using var bf = TrainedModel.Load(ctmPath);
        bf.Network.to(ScalarType.BFloat16);
        var sf = fp.CreateGammaSampler();
        var sb = bf.CreateGammaSampler();
        int n = config.EvalSamples;
        Log($"CTM {ctmPath}: {n} samples per set, seeds 1..{seeds}, float32 vs bfloat16 weights (inputs, preconditioning, sampler state float32)");

        Tensor Features(GammaSampler s, int nfe, ulong seed, out double cpuSeconds)
        {
            using var scope = NewDisposeScope();
            using var g = new Generator(seed);
            using var noGrad = no_grad();
            var labels = arange(n, dtype: ScalarType.Int64) % 10;
            double t0 = ProcessCpuClock.Seconds();
            var parts = new List<Tensor>();
            for (int i = 0; i < n; i += 500) parts.Add(s.Sample(Math.Min(500, n - i), 0.0, nfe, labels.narrow(0, i, Math.Min(500, n - i)), g));
            cpuSeconds = ProcessCpuClock.Seconds() - t0;
            return p.Classifier.Features(cat(parts.ToArray(), 0).clamp(-1, 1)).MoveToOuterDisposeScope();
        }

        Console.WriteLine();
        Console.WriteLine("| NFE | FD(bf16, fp32), same noise | FD(fp32, fp32), other noise (floor) | FD to test: fp32 | FD to test: bf16 | CPU s fp32 / bf16 | verdict |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---|");
        bool allPass = true;
        foreach (int nfe in new[] { 1, 2 })
        {
            var cross = new List<double>(); var floor = new List<double>(); var testF = new List<double>(); var testB = new List<double>();
            double cf = 0, cb = 0;
            for (ulong seed = 1; seed <= (ulong)seeds; seed++)
            {
                using var ff = Features(sf, nfe, seed, out double a);
                using var fb = Features(sb, nfe, seed, out double b);
                using var ff2 = Features(sf, nfe, seed + 1000, out _);
                cf += a; cb += b;
                cross.Add(FrechetDistance.Compute(fb, ff));
                floor.Add(FrechetDistance.Compute(ff2, ff));
                testF.Add(FrechetDistance.Compute(ff, p.TestFeatures!));
                testB.Add(FrechetDistance.Compute(fb, p.TestFeatures!));
            }
            // Within the noise: bf16 vs fp32 (same noise) is no farther apart than two fp32 runs with different noise,
            // and the FD to the test digits moves by less than the spread of the fp32 runs' FD (or 2 % of it).
            double spread = Math.Max(testF.Max() - testF.Min(), 0.02 * testF.Average());
            bool pass = cross.Average() <= floor.Average() && Math.Abs(testB.Average() - testF.Average()) <= spread;
            allPass &= pass;
            Console.WriteLine($"| {nfe} | {cross.Average():F4} | {floor.Average():F4} | {testF.Average():F4} | {testB.Average():F4} | {cf:F1} / {cb:F1} | {(pass ? "PASS" : "FAIL")} |");
        }
        Console.WriteLine();
        Console.WriteLine($"{(allPass ? "PASS" : "FAIL")}  bfloat16 MNIST samples within float32 run-to-run noise (FD, {seeds} seeds × {n} samples)");
        return 0;
    }
}
