using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TorchSharp;

namespace Ctm.Benchmarks.Perf;

/// <summary>
/// <c>./build.sh bench perf</c>: the BenchmarkDotNet ratio suites, the training breakdown, memory and likelihood
/// reports, then one PASS/FAIL line per target. Everything printed is also written to artifacts/perf/perf-report.md.
/// </summary>
internal static class PerfCommand
{
    public static readonly string[] AllSuites = { "nfe", "heun", "train", "throughput", "breakdown", "memory", "likelihood", "bf16", "before-after" };

    /// <summary>Suites run only when named.</summary>
    public static readonly string[] ExtraSuites = { "probe" };

    public static int Run(string[] suites, bool quick, bool interleavedOnly, string? ctm, string[] bdnArgs)
    {
        PerfEnvironment.Quick = quick;
        var device = PerfEnvironment.TryDevice(out string why);
        if (device is null)
        {
            Console.WriteLine($"[perf] {why}");
            return 0;
        }
        var unknown = suites.Except(AllSuites).Except(ExtraSuites).ToArray();
        if (unknown.Length > 0) { Console.Error.WriteLine($"[perf] unknown suite(s) {string.Join(", ", unknown)}; use {string.Join(",", AllSuites)}."); return 2; }

        Directory.CreateDirectory(Path.Combine("artifacts", "perf"));
        var report = new List<string>();
        void Print(string line) { Console.WriteLine(line); report.Add(line); }
        var targets = new List<string>();
        void Target(string what, double value, string op, double limit, string unit = "×")
        {
            bool pass = op == "≤" ? value <= limit : value >= limit;
            string line = $"{(pass ? "PASS" : "FAIL")}  {what}: {value.ToString("F3", CultureInfo.InvariantCulture)}{unit} (target {op} {limit.ToString(CultureInfo.InvariantCulture)}{unit})";
            targets.Add(line);
            Console.WriteLine(line);
        }

        Print($"# Ctm.Core perf report");
        Print("");
        Print($"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; command: ./build.sh bench perf {string.Join(' ', Environment.GetCommandLineArgs().Skip(2))}");
        Print($"- machine: {Machine()}; device {device}; libtorch {torch.__version__}; .NET {Environment.Version}");
        Print($"- load average at start: {LoadAverage()} (other programs' load: the ratio suites use process CPU time)");
        Print("");

        var config = ManualConfig.CreateEmpty().WithArtifactsPath(Path.Combine("artifacts", "perf", "bdn"));
        Summary? RunSuite(Type type) => interleavedOnly ? null : BenchmarkRunner.Run(type, config, bdnArgs);
        double budget = quick ? 4 : 10;

        if (suites.Contains("nfe"))
        {
            var bdn = RunSuite(typeof(NfeVsForwardBenchmarks));
            Print("## NFE k vs k raw forwards (process CPU time, 1 thread)");
            Print("");
            Print("| case | k forwards (ms) | γ-sampling NFE k (ms) | BenchmarkDotNet ratio | interleaved ratio (rounds) |");
            Print("|---|---:|---:|---:|---:|");
            foreach (var c in NfeVsForwardBenchmarks.Cases())
            {
                using var b = new NfeVsForwardBenchmarks { Case = c };
                b.Setup();
                var (r, n) = Ratio(new Action[] { b.Forwards, b.Gamma }, budget);
                Print($"| {c} | {Bdn(bdn, c, "Forwards")} | {Bdn(bdn, c, "Gamma")} | {BdnRatio(bdn, c, "Gamma", "Forwards")} | {r[1]:F3} ({n}) |");
                Target($"NFE-k sampling vs k forwards [{c}]", r[1], "≤", 1.10);
            }
            Print("");
        }
        if (suites.Contains("heun"))
        {
            var bdn = RunSuite(typeof(CtmVsHeunBenchmarks));
            Print("## CTM NFE 1 vs Heun NFE 35 (process CPU time, 1 thread)");
            Print("");
            Print("| case | CTM NFE 1 (ms) | Heun 35, CTM diagonal (ms) | Heun 35, teacher net (ms) | BDN ratios (diagonal, teacher) | interleaved ratios (rounds) |");
            Print("|---|---:|---:|---:|---:|---:|");
            foreach (var c in CtmVsHeunBenchmarks.Cases())
            {
                using var b = new CtmVsHeunBenchmarks { Case = c };
                b.Setup();
                var (r, n) = Ratio(new Action[] { b.CtmNfe1, b.HeunOnCtm, b.HeunOnTeacher }, budget * 2, minRounds: 3);
                Print($"| {c} | {Bdn(bdn, c, "CtmNfe1")} | {Bdn(bdn, c, "HeunOnCtm")} | {Bdn(bdn, c, "HeunOnTeacher")} | " +
                      $"{BdnRatio(bdn, c, "HeunOnCtm", "CtmNfe1")}, {BdnRatio(bdn, c, "HeunOnTeacher", "CtmNfe1")} | {r[1]:F1}, {r[2]:F1} ({n}) |");
                Target($"Heun 35 on the same network / CTM NFE 1 [{c}]", r[1], "≥", 30);
                Console.WriteLine($"INFO  Heun 35 on the teacher's network / CTM NFE 1 [{c}]: {r[2]:F1}×");
            }
            Print("");
        }
        if (suites.Contains("train"))
        {
            var bdn = RunSuite(typeof(TrainingBenchmarks));
            Print("## Training iteration vs its passes (process CPU time, 1 thread)");
            Print("");
            Print("| case | passes (ms) | passes + adaptive grads (ms) | CtmTrainer iteration (ms) | BDN: iteration / (passes + adaptive) | interleaved (rounds) | adaptive grads / passes |");
            Print("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var c in TrainingBenchmarks.Cases())
            {
                using var b = new TrainingBenchmarks { Case = c };
                b.Setup();
                var (r, n) = Ratio(new Action[] { b.PassesAdaptive, b.Iteration, b.Passes }, budget * 2, minRounds: c.MaxTeacherSteps > 1 ? 30 : 5);
                Print($"| {c} | {Bdn(bdn, c, "Passes")} | {Bdn(bdn, c, "PassesAdaptive")} | {Bdn(bdn, c, "Iteration")} | {BdnRatio(bdn, c, "Iteration", "PassesAdaptive")} | " +
                      $"{r[1]:F3} ({n}) | {1 / r[2] - 1:P1} |");
                Target($"training iteration vs passes + adaptive grads [{c}]", r[1], "≤", 1.15);
            }
            Print("");
        }
        if (suites.Contains("throughput") && !interleavedOnly && RunSuite(typeof(ThroughputBenchmarks)) is { } thr)
        {
            Print("## NFE-1 throughput, MNIST SongUNet (wall clock; the machine's other load is in these numbers)");
            Print("");
            Print("| batch | 1 thread: ms | samples/s | 2 threads: ms | samples/s |");
            Print("|---:|---:|---:|---:|---:|");
            var rows = thr.Reports.Where(r => r.ResultStatistics is not null)
                .Select(r => (Case: (ThroughputCase)r.BenchmarkCase.Parameters["Case"], Ns: r.ResultStatistics!.Median)).ToList();
            foreach (var b in rows.Select(r => r.Case.Batch).Distinct().OrderBy(b => b))
            {
                string Cell(int th) => rows.FirstOrDefault(r => r.Case.Batch == b && r.Case.Threads == th) is { Case: not null } r
                    ? $"{r.Ns / 1e6:F2} | {b / (r.Ns / 1e9):F0}" : "– | –";
                Print($"| {b} | {Cell(1)} | {Cell(2)} |");
            }
            Print("");
        }
        if (suites.Contains("breakdown"))
        {
            Print("## Where a training iteration spends its time (replica of CtmLoss + CtmTrainer, phase by phase)");
            Print("");
            foreach (var (net, batch, k) in new[] { (PerfNet.Mlp, 256, 17), (PerfNet.Mnist, 64, 10) })
            {
                var (overhead, _) = TrainingBreakdown.Run(net, batch, k, quick ? 6 : net == PerfNet.Mlp ? 200 : 12, Print);
                Target($"iteration overhead beyond passes + adaptive grads [{net}, B={batch}, K={k}]", overhead * 100, "≤", 15, " %");
                Print("");
            }
        }
        if (suites.Contains("memory"))
        {
            Print("## Memory over long runs");
            Print("");
            bool flat = MemoryReport.Run(quick ? 1000 : 10_000, quick ? 200 : 2_000, Print);
            targets.Add($"{(flat ? "PASS" : "FAIL")}  memory flat (no live tensor left behind, RSS growth in the second half < 2 % + 8 MB)");
            Console.WriteLine(targets[^1]);
            Print("");
        }
        if (suites.Contains("bf16"))
        {
            Print("## bfloat16 inference on CPU (process CPU time, interleaved, 1 thread)");
            Print("");
            Bf16Report.Speed(quick, budget, Print, (w, v, op, l) => Target(w, v, op, l));
            Print("");
        }
        if (suites.Contains("before-after"))
        {
            Print("## Optimisations: the code on main (replicated) vs now, interleaved (process CPU time, 1 thread)");
            Print("");
            BeforeAfter.Run(quick ? 3 : 8, Print);
            Print("");
        }
        if (suites.Contains("probe"))
        {
            Print("## Overhead probes (process CPU time, interleaved, 1 thread)");
            Print("");
            OverheadProbe.Run(quick ? 3 : 10, Print);
            Print("");
        }
        if (suites.Contains("likelihood"))
        {
            Print("## Likelihood: time and NFE per bits/dim evaluation (MNIST configuration)");
            Print("");
            LikelihoodCost.Run(ctm, quick ? 1 : 2, Print);
            Print("");
        }
        Print("## Targets");
        Print("");
        Print("```");
        foreach (var t in targets) Print(t);
        Print("```");
        Print("");
        Print($"- load average at end: {LoadAverage()}");
        string path = Path.Combine("artifacts", "perf", "perf-report.md");
        File.WriteAllLines(path, report);
        Console.WriteLine($"[perf] report written to {path}");
        return 0;
    }

    /// <summary>Interleaved median ratios of every action to the first, and the number of rounds.</summary>
    private static (double[] Ratios, int Rounds) Ratio(Action[] actions, double budgetSeconds, int minRounds = 5)
    {
        var probe = Interleaved.Measure(actions, 1, warmup: 1);
        double perRound = probe.Sum(t => t[0]);
        int rounds = Interleaved.Rounds(perRound, budgetSeconds, minRounds, 400);
        var t = Interleaved.Measure(actions, rounds, warmup: 1);
        return (t.Select(x => Interleaved.MedianRatio(x, t[0])).ToArray(), rounds);
    }

    private static string Bdn(Summary? s, object c, string method)
        => Median(s, c, method) is double ns ? (ns / 1e6).ToString("F2", CultureInfo.InvariantCulture) : "–";

    private static string BdnRatio(Summary? s, object c, string a, string b)
        => Median(s, c, a) is double x && Median(s, c, b) is double y ? (x / y).ToString("F3", CultureInfo.InvariantCulture) : "–";

    private static double? Median(Summary? s, object c, string method)
        => s?.Reports.FirstOrDefault(r => r.ResultStatistics is not null && r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
            && r.BenchmarkCase.Parameters["Case"]?.ToString() == c.ToString())?.ResultStatistics!.Median;

    private static string Machine()
    {
        string cpu = "?";
        try { cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"; }
        catch (IOException) { }
        return $"{cpu}, {Environment.ProcessorCount} logical cores, {Environment.OSVersion}";
    }

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }
}
