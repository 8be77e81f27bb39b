using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Ctm.Core;
using Ctm.Core.Training;
using TorchSharp;

namespace Ctm.Samples;

/// <summary>What one data set's end-to-end run produced.</summary>
public sealed record Toy2DResult(IToyData Data, List<ToyRow> Rows, List<(bool Pass, string Text)> Targets, string Plot,
    double TeacherSeconds, double CtmSeconds, double WallSeconds, string Report);

/// <summary>
/// Teacher → CTM → evaluation → plot for each 2-D data set. Data sets run concurrently, one core each: the 2-D networks
/// are too small for libtorch's intra-op threads to pay off (a batch-512 MLP step is dominated by per-operation
/// overhead), so two single-threaded runs side by side finish in about the time of one.
/// </summary>
public static class Toy2DRun
{
    /// <summary>Runs every data set; the results come back in the order of <paramref name="sets"/>.</summary>
    /// <param name="sets">The data sets (borrowed).</param>
    /// <param name="cfg">Settings shared by all sets.</param>
    /// <param name="outDir">Where the PNGs go.</param>
    /// <param name="log">Progress lines, prefixed with the data set's key; called from worker threads (serialised here).</param>
    /// <param name="concurrent">Run the sets side by side (torch intra-op threads = cores / sets).</param>
    /// <param name="teacherCacheDir">If set, trained teachers are saved there and reused by runs with the same settings.</param>
    public static List<Toy2DResult> Run(IReadOnlyList<IToyData> sets, ToyConfig cfg, string outDir, Action<string> log,
        bool concurrent = true, string? teacherCacheDir = null)
    {
        var gate = new object();
        void Log(string s) { lock (gate) log(s); }
        int cores = Environment.ProcessorCount;
        int workers = concurrent ? Math.Min(sets.Count, cores) : 1;
        torch.set_num_threads(Math.Max(1, cores / workers));
        var results = new Toy2DResult[sets.Count];
        Parallel.For(0, sets.Count, new ParallelOptions { MaxDegreeOfParallelism = workers },
            i => results[i] = RunOne(sets[i], cfg, outDir, Log, teacherCacheDir));
        return results.ToList();
    }

    private static Toy2DResult RunOne(IToyData data, ToyConfig cfg, string outDir, Action<string> log, string? teacherCacheDir)
    {
        var wall = Stopwatch.StartNew();
        string key = data.Key;
        string teacherCache = teacherCacheDir is null ? "" : Path.Combine(teacherCacheDir, $"teacher-{key}-{cfg.TeacherKey}.bin");
        using var teacher = Toy2DPipeline.TrainTeacher(data, cfg, new SyncProgress<(long Step, long Total, double Loss)>(p =>
        {
            if (Tenth(p.Step, p.Total)) log($"[{key}] teacher {p.Step,6}/{p.Total}  loss {p.Loss:F3}");
        }), teacherCache);
        CtmLossBreakdown lastG = default;
        using var ctm = Toy2DPipeline.TrainCtm(data, teacher, cfg, new SyncProgress<CtmTrainingProgress>(p =>
        {
            if (!p.DiscriminatorStep) lastG = p.Loss;
            if (!Tenth(p.Step, p.TotalSteps)) return;
            var l = lastG;
            log($"[{key}] CTM     {p.Step,6}/{p.TotalSteps}  CTM {l.Ctm:E2}  DSM {l.Dsm:F3} (λ {l.LambdaDsm:F2})  " +
                $"GAN {(double.IsNaN(l.GanGenerator) ? "off" : $"{l.GanGenerator:F2} (λ {l.LambdaGan:F2})")}");
        }));
        log($"[{key}] trained: teacher {teacher.Seconds:F0} s, CTM {ctm.Seconds:F0} s; evaluating");
        var (rows, samples) = Toy2DEvaluation.Run(data, teacher, ctm, cfg);
        var targets = Toy2DEvaluation.Targets(data.Name, rows);
        var panels = samples.Select(kv => new ScatterPlot.Panel(kv.Key, SampleUtil.Floats(kv.Value))).ToList();
        panels.Add(SampleUtil.TrajectoryPanel(ctm.Model, "CTM paths x_s/sqrt(1+s^2)"));
        string plot = Path.Combine(outDir, key + ".png");
        ScatterPlot.Write(plot, panels, columns: 4, extent: 1.6);
        foreach (var x in samples.Values) x.Dispose();

        var report = new StringWriter();
        report.WriteLine($"== {data.Name} == (teacher {teacher.Seconds:F0} s, CTM {ctm.Seconds:F0} s, wall {wall.Elapsed.TotalSeconds:F0} s)");
        Toy2DEvaluation.Print($"  {cfg.EvalSamples} samples per row, scored against {cfg.EvalSamples} fresh data samples", rows, report);
        foreach (var (pass, text) in targets) report.WriteLine($"  {(pass ? "PASS" : "FAIL")} {text}");
        report.WriteLine($"  wrote {Path.GetFullPath(plot)}");
        return new Toy2DResult(data, rows, targets, plot, teacher.Seconds, ctm.Seconds, wall.Elapsed.TotalSeconds, report.ToString());
    }

    private static bool Tenth(long step, long total) => step == total || step % Math.Max(1, total / 10) == 0;
}
