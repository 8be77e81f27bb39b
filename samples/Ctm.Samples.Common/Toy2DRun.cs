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
    /// <param name="addTask">Creates a progress task of a name and a step count (e.g. <see cref="ProgressTasks.Add"/>);
    /// called here for every set before any work starts, reported to from worker threads.</param>
    /// <param name="concurrent">Run the sets side by side (torch intra-op threads = cores / sets).</param>
    /// <param name="teacherCacheDir">If set, trained teachers are saved there and reused by runs with the same settings.</param>
    /// <param name="threads">libtorch intra-op threads; null = cores / the number of sets run side by side.</param>
    public static List<Toy2DResult> Run(IReadOnlyList<IToyData> sets, ToyConfig cfg, string outDir,
        Func<string, long, IProgress<(long Step, string Status)>> addTask, bool concurrent = true, string? teacherCacheDir = null, int? threads = null)
    {
        int cores = Environment.ProcessorCount;
        int workers = concurrent ? Math.Min(sets.Count, cores) : 1;
        torch.set_num_threads(threads ?? Math.Max(1, cores / workers));
        var bars = sets.Select(d => (Teacher: addTask($"{d.Key}: teacher", cfg.TeacherSteps), Ctm: addTask($"{d.Key}: CTM", cfg.CtmSteps))).ToArray();
        var results = new Toy2DResult[sets.Count];
        Parallel.For(0, sets.Count, new ParallelOptions { MaxDegreeOfParallelism = workers },
            i => results[i] = RunOne(sets[i], cfg, Path.Combine(outDir, sets[i].Key + ".png"), bars[i].Teacher, bars[i].Ctm, teacherCacheDir));
        return results.ToList();
    }

    /// <summary>The file a trained teacher of <paramref name="data"/> with the settings of <paramref name="cfg"/> is cached in, under <paramref name="cacheDir"/>.</summary>
    public static string TeacherCachePath(string cacheDir, IToyData data, ToyConfig cfg) => Path.Combine(cacheDir, $"teacher-{ToyData.CacheKey(data)}-{cfg.TeacherKey}.bin");

    /// <summary>One data set end to end on the calling thread: teacher (or its cached copy), CTM, table, targets, plot.</summary>
    /// <param name="data">The data set (borrowed).</param>
    /// <param name="cfg">Settings, including the seed.</param>
    /// <param name="plot">Path of the PNG to write.</param>
    /// <param name="teacherBar">Teacher progress (step, status).</param>
    /// <param name="ctmBar">CTM progress (step, status).</param>
    /// <param name="teacherCacheDir">If set, the trained teacher is saved there and reused by runs with the same settings.</param>
    public static Toy2DResult RunOne(IToyData data, ToyConfig cfg, string plot, IProgress<(long Step, string Status)>? teacherBar = null,
        IProgress<(long Step, string Status)>? ctmBar = null, string? teacherCacheDir = null)
    {
        var wall = Stopwatch.StartNew();
        string teacherCache = teacherCacheDir is null ? "" : TeacherCachePath(teacherCacheDir, data, cfg);
        using var teacher = Toy2DPipeline.TrainTeacher(data, cfg, new SyncProgress<(long Step, long Total, double Loss)>(p =>
            teacherBar?.Report((p.Step, $"loss {p.Loss:F3}"))), teacherCache);
        if (teacher.Seconds == 0) teacherBar?.Report((cfg.TeacherSteps, "loaded from the cache"));
        CtmLossBreakdown? lastG = null;
        using var ctm = Toy2DPipeline.TrainCtm(data, teacher, cfg, new SyncProgress<CtmTrainingProgress>(p =>
        {
            if (!p.DiscriminatorStep) lastG = p.Loss;
            if (lastG is not { } l) return;
            ctmBar?.Report((p.Step, $"CTM {l.Ctm:E2}  DSM {(l.Dsm is double dsm ? $"{dsm:F3} (λ {l.LambdaDsm:F2})" : "off")}  " +
                $"GAN {(l.GanGenerator is double gan ? $"{gan:F2} (λ {l.LambdaGan:F2})" : "off")}"));
        }));
        ctmBar?.Report((cfg.CtmSteps, $"trained (teacher {teacher.Seconds:F0} s, CTM {ctm.Seconds:F0} s); evaluating"));
        var (rows, samples) = Toy2DEvaluation.Run(data, teacher, ctm, cfg);
        var targets = Toy2DEvaluation.Targets(data.Name, rows);
        var panels = samples.Select(kv => new ScatterPlot.Panel(kv.Key, SampleUtil.Floats(kv.Value))).ToList();
        panels.Add(SampleUtil.TrajectoryPanel(ctm.Model, "CTM paths x_s/sqrt(1+s^2)"));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(plot))!);
        ScatterPlot.Write(plot, panels, columns: 4, extent: 1.6);
        foreach (var x in samples.Values) x.Dispose();

        var report = new StringWriter();
        report.WriteLine($"== {data.Name} == (teacher {teacher.Seconds:F0} s, CTM {ctm.Seconds:F0} s, wall {wall.Elapsed.TotalSeconds:F0} s)");
        Toy2DEvaluation.Print($"  {cfg.EvalChunks * cfg.EvalSamples} samples per row against as many fresh data samples (SW2, off-support, log p, " +
            $"modes); k-NN scores, plots and times on the first {cfg.EvalSamples}", rows, report);
        foreach (var (pass, text) in targets) report.WriteLine($"  {(pass ? "PASS" : "FAIL")} {text}");
        report.WriteLine($"  wrote {Path.GetFullPath(plot)}");
        ctmBar?.Report((cfg.CtmSteps, "done"));
        return new Toy2DResult(data, rows, targets, plot, teacher.Seconds, ctm.Seconds, wall.Elapsed.TotalSeconds, report.ToString());
    }
}
