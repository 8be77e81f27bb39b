using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Ctm.Core.Training;
using Ctm.Samples;
using TorchSharp;

namespace Ctm.Benchmarks;

/// <summary>
/// The 2-D quality targets over seeds: for each law of <c>--laws</c> (default the ring and the checkerboard; also the
/// laws the settings were not tuned on: grid, swissroll, moons, circles), the demo's configuration (full objective) for
/// every seed of <c>--seeds</c> (default 0,1,2), then — with <c>--ablations</c> — the three ablations (no GAN,
/// λ_DSM = 0, self-teacher) on the first seed. Runs go side by side, one core each (the 2-D networks gain nothing from
/// intra-op threads). Prints each run's table, its PASS/FAIL lines, and a summary of every target over the seeds.
/// </summary>
public static class Toy2DReport
{
    /// <summary>Runs the report.</summary>
    /// <param name="quick">Smoke-run budgets.</param>
    /// <param name="ablations">Also run the ablations on the first seed.</param>
    /// <param name="outDir">Plots and the teacher cache.</param>
    /// <param name="seeds">Seeds of the full-objective runs.</param>
    /// <param name="ctmLearningRate">CTM learning rate; null = the demo's.</param>
    /// <param name="laws">Keys of the 2-D laws (<see cref="ToyData.Keys"/>) or paths of CSV files of points.</param>
    public static void Run(bool quick, bool ablations, string outDir, ulong[] seeds, double? ctmLearningRate, string[] laws)
    {
        var unknown = laws.Where(law => !ToyData.IsKnown(law)).ToArray();
        if (laws.Length == 0 || unknown.Length > 0)
            throw new ArgumentException($"Unknown 2-D law(s) '{string.Join(", ", unknown)}' in --laws; use a comma-separated list of: {string.Join(", ", ToyData.Keys)}, or paths of CSV files of points.", nameof(laws));
        var baseCfg = quick ? ToyConfig.Quick : new ToyConfig();
        if (ctmLearningRate is double lr) baseCfg = baseCfg with { CtmLearningRate = lr };

        var jobs = new List<(string Variant, ulong Seed, Func<IToyData> Data, ToyConfig Cfg)>();
        foreach (var seed in seeds)
            foreach (var law in laws)
                jobs.Add(("full", seed, () => ToyData.Create(law), baseCfg with { Seed = seed }));
        if (ablations)
        {
            var first = baseCfg with { Seed = seeds[0] };
            foreach (var (name, cfg) in new[] { ("no GAN", first with { Gan = false }), ("λ_DSM = 0", first with { DsmWeight = 0 }),
                         ("self-teacher", first with { TeacherMode = TeacherMode.SelfTeacher }) })
                foreach (var law in laws)
                    jobs.Add((name, seeds[0], () => ToyData.Create(law), cfg));
        }

        int workers = Math.Min(jobs.Count, Environment.ProcessorCount);
        torch.set_num_threads(1);
        Console.WriteLine($"Ctm.Core 2-D report — {baseCfg}; seeds {string.Join(",", seeds)}; {jobs.Count} runs, {workers} side by side, 1 thread each");
        var total = Stopwatch.StartNew();
        var results = new Toy2DResult[jobs.Count];
        // Full-objective runs first: the ablations on the first seed then find its teachers in the cache.
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = workers }, i =>
        {
            var (variant, seed, make, cfg) = jobs[i];
            var data = make();
            string plot = Path.Combine(outDir, $"{data.Key}-{variant.Replace(' ', '-').Replace("λ_DSM-=-0", "no-dsm")}-seed{seed}.png");
            results[i] = Toy2DRun.RunOne(data, cfg, plot, teacherCacheDir: Path.Combine(outDir, "teachers"));
            lock (results) Console.WriteLine($"[{total.Elapsed.TotalMinutes:F1} min] {variant}, seed {seed}:{Environment.NewLine}{results[i].Report}");
        });

        Console.WriteLine("Summary (full objective): each target over the seeds");
        var full = jobs.Select((j, i) => (j, r: results[i])).Where(x => x.j.Variant == "full").ToList();
        foreach (var group in full.GroupBy(x => x.r.Data.Name))
        {
            var perSeed = group.Select(x => x.r.Targets).ToList();
            for (int t = 0; t < perSeed[0].Count; t++)
            {
                int passed = perSeed.Count(ts => ts[t].Pass);
                Console.WriteLine($"  {(passed == perSeed.Count ? "PASS" : "FAIL")} {passed}/{perSeed.Count} seeds: target {t + 1}");
                foreach (var (ts, seed) in perSeed.Zip(group.Select(x => x.j.Seed))) Console.WriteLine($"        seed {seed}: {ts[t].Text}");
            }
        }
        if (ablations)
        {
            Console.WriteLine("Ablations (first seed): CTM γ=0 rows");
            foreach (var (j, r) in jobs.Select((j, i) => (j, results[i])))
                foreach (var row in r.Rows.Where(x => x.Sampler.StartsWith("CTM γ=0", StringComparison.Ordinal)))
                    Console.WriteLine($"  {r.Data.Name,-20} {j.Variant,-14} NFE {row.Nfe}: SW2 {row.Swd:F4}  precision {row.Manifold.Precision:F3}  recall {row.Manifold.Recall:F3}  off-support {row.Support.OffSupportFraction:F4}");
        }
        foreach (var r in results) r.Data.Dispose();
        Console.WriteLine($"total {total.Elapsed.TotalMinutes:F1} min");
    }
}
