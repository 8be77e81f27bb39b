// 2-D end to end: train an EDM teacher, distil a CTM (CTM + DSM + GAN), compare samplers in one table, write plots.
//
//   dotnet run --project samples/Ctm.Samples.Toy2D -c Release -- [--dataset ring|checkerboard|both] [--quick]
//        [--teacher-steps N] [--ctm-steps N] [--no-gan] [--no-dsm] [--self-teacher] [--seed S] [--out DIR]
//        [--batch B] [--ctm-lr LR] [--gan-start FRACTION] [--target-ema MU] [--eval-ema MU] [--reuse-teacher] [--sequential]
//        [--hidden H] [--blocks B] [--emb-scale S] [--teacher-lr LR] [--grid N] [--max-teacher-steps K] [--disc-hidden H]
//        [--disc-lr LR] [--huber C] [--sigma-max S]
// The data sets train side by side, one core each (--sequential: one after the other on all cores).
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
    SigmaMax = cli.Number("--sigma-max", defaults.SigmaMax),
};
string outDir = Arg("--out", "artifacts/toy2d");
var sets = Arg("--dataset", "both") switch
{
    "ring" => new IToyData[] { new RingData() },
    "checkerboard" => new IToyData[] { new CheckerboardData() },
    _ => new IToyData[] { new RingData(), new CheckerboardData() },
};

bool concurrent = !Flag("--sequential");
Console.WriteLine($"Ctm.Core 2-D demo: teacher {cfg.TeacherSteps} steps, CTM {cfg.CtmSteps} steps, batch {cfg.Batch}, " +
    $"GAN {(cfg.Gan ? "on" : "off")}, DSM weight {cfg.DsmWeight}, {cfg.TeacherMode}; " +
    (concurrent && sets.Length > 1 ? $"{sets.Length} data sets side by side, one core each" : "one data set at a time"));
var total = Stopwatch.StartNew();
var results = Toy2DRun.Run(sets, cfg, outDir, line => Console.WriteLine($"  [{total.Elapsed:mm\\:ss}] {line}"), concurrent,
    Flag("--reuse-teacher") ? outDir : null);
var allTargets = new List<(bool Pass, string Text)>();
foreach (var r in results)
{
    Console.WriteLine();
    Console.Write(r.Report);
    allTargets.AddRange(r.Targets);
    r.Data.Dispose();
}
Console.WriteLine();
Console.WriteLine($"targets: {allTargets.Count(t => t.Pass)} of {allTargets.Count} PASS");
Console.WriteLine($"total {total.Elapsed.TotalSeconds:F0} s");
