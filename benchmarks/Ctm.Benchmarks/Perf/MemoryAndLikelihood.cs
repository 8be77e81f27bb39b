using System;
using System.Diagnostics;
using System.IO;
using Ctm.Core;
using Ctm.Core.Checkpoints;
using Ctm.Core.Likelihood;
using Ctm.Core.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks.Perf;

/// <summary>RSS and live tensors over long sampling and training runs (start, middle, end).</summary>
internal static class MemoryReport
{
    private static long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    private static double RssMb()
    {
        // VmRSS from /proc (the resident set, native libtorch memory included).
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return double.NaN;
    }

    /// <summary>Prints the table; returns whether both runs stayed flat.</summary>
    public static bool Run(int samplingCalls, int trainingIterations, Action<string> print)
    {
        set_num_threads(1);
        var device = PerfEnvironment.Device;
        print("| run | point | calls done | RSS (MB) | live tensors |");
        print("|---|---|---:|---:|---:|");
        bool ok = true;

        using (var s = PerfSubject.Create(PerfNet.Mlp, device))
        using (var gen = new Generator(0))
        {
            var sampler = new GammaSampler(s.Model, s.SampleShape);
            ok &= Track($"γ-sampling, MLP, B = 64, γ = 0.3, NFE 2", samplingCalls, () => { using var x = sampler.Sample(64, 0.3, 2, generator: gen); }, print);
        }
        using (var rig = new TrainingRig(PerfNet.Mlp, 64, 17))
            ok &= Track("CtmTrainer iterations, MLP, B = 64, K = 17", trainingIterations, () => rig.Iteration(), print);
        return ok;
    }

    private static bool Track(string name, int calls, Action call, Action<string> print)
    {
        for (int i = 0; i < Math.Min(50, calls / 10); i++) call(); // warm-up: allocator pools and JIT settle
        GC.Collect(); GC.WaitForPendingFinalizers();
        var points = new (int Done, double Rss, long Live)[3];
        points[0] = (0, RssMb(), Live());
        for (int i = 1; i <= calls; i++)
        {
            call();
            if (i == calls / 2) { GC.Collect(); GC.WaitForPendingFinalizers(); points[1] = (i, RssMb(), Live()); }
        }
        GC.Collect(); GC.WaitForPendingFinalizers();
        points[2] = (calls, RssMb(), Live());
        string[] names = { "start", "middle", "end" };
        for (int i = 0; i < 3; i++) print($"| {name} | {names[i]} | {points[i].Done:N0} | {points[i].Rss:F1} | {points[i].Live} |");
        // Flat: no live tensor left behind, and RSS in the second half grows by less than 2 % + 8 MB (allocator noise).
        bool flat = points[2].Live == points[0].Live && points[2].Rss - points[1].Rss < 0.02 * points[1].Rss + 8;
        print($"| {name} | second-half growth | | {points[2].Rss - points[1].Rss:+0.0;-0.0} | {points[2].Live - points[1].Live:+0;-0} |");
        return flat;
    }
}

/// <summary>Time and NFE of one bits/dim evaluation on the MNIST configuration, exact and Hutchinson divergence.</summary>
internal static class LikelihoodCost
{
    public static void Run(string? ctmPath, int batch, Action<string> print)
    {
        set_num_threads(1);
        var device = PerfEnvironment.Device;
        TrainedModel? trained = ctmPath is not null && File.Exists(ctmPath) ? TrainedModel.Load(ctmPath, device) : null;
        using var subject = trained is null ? PerfSubject.Create(PerfNet.Mnist, device) : null;
        IDenoiser model = trained?.Model ?? subject!.Model;
        long[] shape = trained?.SampleShape ?? subject!.SampleShape;
        int classes = model.NumClasses;
        print($"Model: {(trained is null ? "untrained MNIST-configuration SongUNet (seeded)" : $"trained MNIST CTM {ctmPath}")}; batch {batch}; " +
              $"DOPRI5 rtol/atol = default; process CPU time, 1 thread");
        print("");
        print("| divergence | NFE | accepted / rejected steps | CPU s | CPU ms / NFE | bits/dim |");
        print("|---|---:|---:|---:|---:|---:|");
        using var g = new Generator(5);
        // Data-like inputs: samples of the model itself (NFE 2), in [−1, 1].
        Tensor x;
        Tensor? labels = classes > 0 ? randint(0, classes, new long[] { batch }, generator: g).to(device) : null;
        using (var gen = new Generator(6))
            x = trained?.TrajectoryModel is { } tm
                ? new GammaSampler(tm, shape).Sample(batch, 0.0, 2, labels, gen).clamp(-1, 1)
                : (rand(subject!.BatchShape(batch), generator: g) * 2 - 1).to(device);
        long dims = 1; foreach (var d in shape) dims *= d;
        foreach (var method in new[] { DivergenceMethod.Hutchinson, DivergenceMethod.Exact })
        {
            double t0 = ProcessCpuClock.Seconds();
            using var r = ProbabilityFlowLikelihood.LogLikelihood(model, x, new LikelihoodOptions { Divergence = method }, labels, g);
            double sec = ProcessCpuClock.Seconds() - t0;
            double bpd = BitsPerDim.FromLogLikelihood(r.LogLikelihood.mean().item<double>(), dims);
            print($"| {method} | {r.Stats.Evaluations} | {r.Stats.AcceptedSteps} / {r.Stats.RejectedSteps} | {sec:F1} | {sec / Math.Max(1, r.Stats.Evaluations) * 1e3:F1} | {bpd:F3} |");
        }
        x.Dispose(); labels?.Dispose(); trained?.Dispose();
    }
}
