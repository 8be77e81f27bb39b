using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Ctm.Core.Training;
using Ctm.Samples;
using TorchSharp;

namespace Ctm.Benchmarks;

/// <summary>
/// The 2-D distillation targets: for the ring and the checkerboard, the teacher/CTM table with the full objective and
/// three ablations (no GAN, λ_DSM = 0, self-teacher), then PASS/FAIL lines for each target.
/// </summary>
public static class Toy2DReport
{
    public static void Run(string[] args)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        bool quick = args.Contains("--quick");
        // 4,000 CTM iterations: the configuration of docs/results-2d.md (the demo uses 3,500 to stay under 10 minutes).
        var baseCfg = new ToyConfig { TeacherSteps = quick ? 600 : 3000, CtmSteps = quick ? 300 : 4000, EvalSamples = quick ? 4000 : 10_000 };
        var variants = new (string Name, ToyConfig Cfg)[]
        {
            ("full objective (CTM + DSM + GAN)", baseCfg),
            ("ablation: no GAN", baseCfg with { Gan = false }),
            ("ablation: λ_DSM = 0", baseCfg with { DsmWeight = 0 }),
            ("ablation: self-teacher (no teacher in distillation)", baseCfg with { TeacherMode = TeacherMode.SelfTeacher }),
        };
        Console.WriteLine($"Ctm.Core 2-D report — teacher {baseCfg.TeacherSteps} steps, CTM {baseCfg.CtmSteps} steps, batch {baseCfg.Batch}, {torch.get_num_threads()} threads");
        var checks = new List<string>();
        var total = Stopwatch.StartNew();
        foreach (var data in new IToyData[] { new RingData(), new CheckerboardData() })
        {
            Console.WriteLine();
            Console.WriteLine($"=== {data.Name} ===");
            using var teacher = Toy2DPipeline.TrainTeacher(data, baseCfg);
            Console.WriteLine($"teacher trained in {teacher.Seconds:F0}s");
            foreach (var (name, cfg) in variants)
            {
                using var ctm = Toy2DPipeline.TrainCtm(data, teacher, cfg);
                var (rows, samples) = Toy2DEvaluation.Run(data, teacher, ctm, cfg);
                foreach (var x in samples.Values) x.Dispose();
                Toy2DEvaluation.Print($"{name} — CTM trained in {ctm.Seconds:F0}s", rows);
                if (name.StartsWith("full")) checks.AddRange(Toy2DEvaluation.Targets(data.Name, rows).Select(t => $"{(t.Pass ? "PASS" : "FAIL")} {t.Text}"));
            }
            data.Dispose();
        }
        Console.WriteLine();
        Console.WriteLine("Targets (full objective):");
        foreach (var c in checks) Console.WriteLine("  " + c);
        Console.WriteLine($"total {total.Elapsed.TotalMinutes:F1} min");
    }
}
