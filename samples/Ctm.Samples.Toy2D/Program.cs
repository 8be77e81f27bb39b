// 2-D end to end: train an EDM teacher, distil a CTM (CTM + DSM + GAN), compare samplers in one table, write plots.
//
//   dotnet run --project samples/Ctm.Samples.Toy2D -c Release -- [--dataset ring|checkerboard|both] [--quick]
//        [--teacher-steps N] [--ctm-steps N] [--no-gan] [--no-dsm] [--self-teacher] [--seed S] [--out DIR]
//        [--batch B] [--ctm-lr LR] [--gan-start FRACTION] [--target-ema MU] [--eval-ema MU] [--threads T] [--reuse-teacher]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Ctm.Core;
using Ctm.Core.Training;
using Ctm.Samples;
using TorchSharp;
using static TorchSharp.torch;

var cli = new CommandLine(args);
string Arg(string name, string fallback) => cli.Value(name, fallback);
bool Flag(string name) => cli.Flag(name);

torch.set_num_threads(cli.Int("--threads", Environment.ProcessorCount));
bool quick = Flag("--quick");
var defaults = new ToyConfig();
var cfg = defaults with
{
    TeacherSteps = cli.Int("--teacher-steps", quick ? 600 : defaults.TeacherSteps),
    CtmSteps = cli.Int("--ctm-steps", quick ? 300 : defaults.CtmSteps),
    Gan = !Flag("--no-gan"),
    DsmWeight = Flag("--no-dsm") ? 0.0 : 1.0,
    TeacherMode = Flag("--self-teacher") ? TeacherMode.SelfTeacher : TeacherMode.Teacher,
    EvalSamples = quick ? 4000 : defaults.EvalSamples,
    Batch = cli.Int("--batch", defaults.Batch),
    CtmLearningRate = cli.Number("--ctm-lr", defaults.CtmLearningRate),
    GanStartFraction = cli.Number("--gan-start", defaults.GanStartFraction),
    TargetEmaRate = cli.Number("--target-ema", defaults.TargetEmaRate),
    EvalEmaRate = cli.Number("--eval-ema", defaults.EvalEmaRate),
    Seed = cli.UInt64("--seed", defaults.Seed),
    Hidden = cli.Int("--hidden", defaults.Hidden),
    Blocks = cli.Int("--blocks", defaults.Blocks),
    EmbeddingScale = cli.Number("--emb-scale", defaults.EmbeddingScale),
    TeacherLearningRate = cli.Number("--teacher-lr", defaults.TeacherLearningRate),
    GridPoints = cli.Int("--grid", defaults.GridPoints),
    MaxTeacherSteps = cli.Int("--max-teacher-steps", defaults.MaxTeacherSteps),
    DiscriminatorHidden = cli.Int("--disc-hidden", defaults.DiscriminatorHidden),
    DiscriminatorLearningRate = cli.Number("--disc-lr", defaults.DiscriminatorLearningRate),
    HuberC = cli.Number("--huber", defaults.HuberC),
};
string outDir = Arg("--out", "artifacts/toy2d");
var sets = Arg("--dataset", "both") switch
{
    "ring" => new IToyData[] { new RingData() },
    "checkerboard" => new IToyData[] { new CheckerboardData() },
    _ => new IToyData[] { new RingData(), new CheckerboardData() },
};

Console.WriteLine($"Ctm.Core 2-D demo: teacher {cfg.TeacherSteps} steps, CTM {cfg.CtmSteps} steps, batch {cfg.Batch}, " +
    $"GAN {(cfg.Gan ? "on" : "off")}, DSM weight {cfg.DsmWeight}, {cfg.TeacherMode}, {torch.get_num_threads()} threads");
var total = Stopwatch.StartNew();
var allTargets = new List<(bool Pass, string Text)>();
foreach (var data in sets)
{
    Console.WriteLine();
    Console.WriteLine($"== {data.Name} ==");
    // The teacher is trained in every mode: it is also a row of the table (the self-teacher ablation distils without it).
    string teacherCache = Flag("--reuse-teacher") ? System.IO.Path.Combine(outDir, $"teacher-{(data is RingData ? "ring" : "checkerboard")}-{cfg.TeacherKey}.bin") : "";
    using var teacher = Toy2DPipeline.TrainTeacher(data, cfg, new SyncProgress<(long Step, long Total, double Loss)>(p => Bar("teacher", p.Step, p.Total, $"loss {p.Loss:F3}")), teacherCache);
    CtmLossBreakdown lastG = default;
    using var ctm = Toy2DPipeline.TrainCtm(data, teacher, cfg, new SyncProgress<CtmTrainingProgress>(p =>
    {
        if (!p.DiscriminatorStep) lastG = p.Loss;
        var l = lastG;
        Bar("CTM    ", p.Step, p.TotalSteps, $"CTM {l.Ctm:E2} DSM {l.Dsm:F3} λ_DSM {l.LambdaDsm:F2} G {(double.IsNaN(l.GanGenerator) ? "off" : l.GanGenerator.ToString("F2"))} " +
            $"λ_GAN {l.LambdaGan:F2}{(p.DiscriminatorStep ? $" D {p.Loss.GanDiscriminator:F3}" : "")}");
    }));
    Console.WriteLine($"  trained: teacher {teacher.Seconds:F0}s, CTM {ctm.Seconds:F0}s");
    var (rows, samples) = Toy2DEvaluation.Run(data, teacher, ctm, cfg);
    Toy2DEvaluation.Print($"  results ({cfg.EvalSamples} samples each, against a reference set of as many fresh data samples)", rows);
    var targets = Toy2DEvaluation.Targets(data.Name, rows);
    allTargets.AddRange(targets);
    foreach (var (pass, text) in targets) Console.WriteLine($"  {(pass ? "PASS" : "FAIL")} {text}");

    var panels = samples.Select(kv => new ScatterPlot.Panel(kv.Key, SampleUtil.Floats(kv.Value))).ToList();
    panels.Add(SampleUtil.TrajectoryPanel(ctm.Model, "CTM paths x_s/sqrt(1+s^2)"));
    string file = System.IO.Path.Combine(outDir, (data is RingData ? "ring" : "checkerboard") + ".png");
    ScatterPlot.Write(file, panels, columns: 4, extent: 1.6);
    Console.WriteLine($"  wrote {System.IO.Path.GetFullPath(file)}");
    foreach (var x in samples.Values) x.Dispose();
    data.Dispose();
}
Console.WriteLine();
Console.WriteLine($"targets: {allTargets.Count(t => t.Pass)} of {allTargets.Count} PASS");
Console.WriteLine($"total {total.Elapsed.TotalSeconds:F0}s");


static void Bar(string what, long step, long total, string info)
{
    // A live bar on a terminal; when output is redirected (CI, logs), one line per 10%.
    bool tty = !Console.IsOutputRedirected;
    long every = Math.Max(1, total / (tty ? 100 : 10));
    if (step != total && step % every != 0) return;
    int width = 30, filled = (int)(width * step / Math.Max(1, total));
    string line = $"  {what} [{new string('#', filled)}{new string('.', width - filled)}] {step,5}/{total} {info}";
    if (tty) { Console.Write("\r" + line + "   "); if (step == total) Console.WriteLine(); }
    else Console.WriteLine(line);
}
