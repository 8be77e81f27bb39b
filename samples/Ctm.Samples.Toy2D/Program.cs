// 2-D end to end: train an EDM teacher, distil a CTM (CTM + DSM + GAN), compare samplers in one table, write plots.
//
//   dotnet run --project samples/Ctm.Samples.Toy2D -c Release -- [--dataset ring|checkerboard|both|grid|…|points.csv] [--blur H] [--quick]
//        [--teacher-steps N] [--ctm-steps N] [--no-gan] [--no-dsm] [--self-teacher] [--seed S] [--out DIR]
//        [--batch B] [--ctm-lr LR] [--gan-start FRACTION] [--target-ema MU] [--eval-ema MU] [--threads T] [--reuse-teacher]
//        [--sequential] [--hidden H] [--blocks B] [--emb-scale S] [--teacher-lr LR] [--grid N] [--max-teacher-steps K]
//        [--disc-hidden H] [--disc-lr LR] [--huber C] [--sigma-max S] [--gan-weight W]
//        [--lr-decay none|linear|cosine] [--decay-start FRACTION] [--decay-final FACTOR] [--trajectory-bank M]
//        [--teacher-lr-decay none|linear|cosine] [--teacher-p-mean M] [--teacher-p-std S] [--dsm-p-mean M] [--dsm-p-std S]
// The data sets train side by side, one core each (--sequential: one after the other on all cores).
//   --help lists every option with its default; an unknown option is an error.
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Linq;
using Ctm.Core;
using Ctm.Core.Training;
using Ctm.Samples;
using Microsoft.Extensions.Logging;

var defaults = new ToyConfig();
var quickDefaults = ToyConfig.Quick;
var dataset = SampleConsole.Option("--dataset", "Data set: ring, checkerboard, both (the two), or one the settings were not tuned on: grid (25 Gaussians), swissroll, moons (two moons) or circles (two concentric circles); " +
    "or your own: the path of a CSV file of points x,y (scaled into [-1, 1]², scored against a kernel density of the points; docs/results-2d.md, \"Your own 2-D data\").", "both");
dataset.Validators.Add(v =>
{
    string value = v.GetValueOrDefault<string>() ?? "";
    if (value != "both" && ToyData.Problem(value) is { } problem) v.AddError($"--dataset: {problem.TrimEnd('.')}.");
});
var pointBlur = SampleConsole.Optional<double>("--blur", "Kernel width h of a CSV --dataset's density, in the scaled frame where the points span about [-1, 1] [default: the median distance to the 10th nearest point, at least 0.02].");
var quick = SampleConsole.Flag("--quick", $"Smoke run: {quickDefaults.TeacherSteps} teacher and {quickDefaults.CtmSteps} CTM iterations, a bank of {quickDefaults.TrajectoryBank} trajectories, {quickDefaults.EvalSamples} samples per row for the k-NN scores and plots, {quickDefaults.SwdSamples} for SW2 and off-support.");
var teacherSteps = SampleConsole.Optional<int>("--teacher-steps", $"Teacher iterations [default: {defaults.TeacherSteps}, {quickDefaults.TeacherSteps} with --quick].");
var ctmSteps = SampleConsole.Optional<int>("--ctm-steps", $"CTM iterations [default: {defaults.CtmSteps}, {quickDefaults.CtmSteps} with --quick].");
var noGan = SampleConsole.Flag("--no-gan", "Distil without the GAN term.");
var noDsm = SampleConsole.Flag("--no-dsm", "Distil without the DSM term (λ_DSM = 0).");
var selfTeacher = SampleConsole.Flag("--self-teacher", "Teacher-free distillation (the target's own jumps).");
var seed = SampleConsole.Option("--seed", "Seed of every network and every draw.", defaults.Seed);
var outDir = SampleConsole.Option("--out", "Output folder for the plots (and the teacher cache of --reuse-teacher).", "artifacts/toy2d");
var batch = SampleConsole.Option("--batch", "Batch size of the teacher's training.", defaults.Batch);
var ctmBatch = SampleConsole.Option("--ctm-batch", "Batch size of the CTM distillation (0 = --batch).", defaults.CtmBatch);
var ctmLr = SampleConsole.Option("--ctm-lr", "CTM learning rate (RAdam).", defaults.CtmLearningRate);
var ganStart = SampleConsole.Option("--gan-start", "Fraction of the CTM run after which the GAN term starts.", defaults.GanStartFraction);
var targetEma = SampleConsole.Option("--target-ema", "μ of the target network θ⁻.", defaults.TargetEmaRate);
var evalEma = SampleConsole.Option("--eval-ema", "μ of the evaluation EMA.", defaults.EvalEmaRate);
var threads = SampleConsole.Optional<int>("--threads", "libtorch CPU threads per data set [default: cores / data sets run side by side].");
var reuseTeacher = SampleConsole.Flag("--reuse-teacher", "Load a teacher trained with the same settings from --out if it is there (and save it otherwise).");
var sequential = SampleConsole.Flag("--sequential", "Train the data sets one after the other on all cores (default: side by side, one core each).");
var hidden = SampleConsole.Option("--hidden", "Hidden width of the teacher and CTM networks.", defaults.Hidden);
var blocks = SampleConsole.Option("--blocks", "Residual blocks of the teacher and CTM networks.", defaults.Blocks);
var embScale = SampleConsole.Option("--emb-scale", "Multiplier of c_noise before the sinusoidal time embeddings.", defaults.EmbeddingScale);
var teacherLr = SampleConsole.Option("--teacher-lr", "Teacher learning rate (Adam).", defaults.TeacherLearningRate);
var grid = SampleConsole.Option("--grid", "N, the points of the CTM training grid.", defaults.GridPoints);
var maxTeacherSteps = SampleConsole.Option("--max-teacher-steps", "K, the most teacher Heun steps between t and u.", defaults.MaxTeacherSteps);
var bank = SampleConsole.Optional<int>("--trajectory-bank", $"Teacher trajectories solved once before distillation, from which x_t and x_u are drawn; 0 = a teacher ODE segment per iteration, the official scheme; off with --self-teacher [default: {defaults.TrajectoryBank}, {quickDefaults.TrajectoryBank} with --quick].");
var discHidden = SampleConsole.Option("--disc-hidden", "Hidden width of the discriminator.", defaults.DiscriminatorHidden);
var discFourier = SampleConsole.Option("--disc-fourier", "Random Fourier features of the discriminator's input (0 = raw coordinates).", defaults.DiscriminatorFourierFeatures);
var discFourierScale = SampleConsole.Option("--disc-fourier-scale", "Standard deviation of the discriminator's Fourier frequencies, in cycles per unit.", defaults.DiscriminatorFourierScale);
var discLr = SampleConsole.Option("--disc-lr", "Discriminator learning rate.", defaults.DiscriminatorLearningRate);
var huber = SampleConsole.Option("--huber", "Pseudo-Huber constant c of the CTM distance (0 = plain L2).", defaults.HuberC);
var sigmaMax = SampleConsole.Option("--sigma-max", "σ_max of the teacher's and the CTM's schedule.", defaults.SigmaMax);
var ganWeight = SampleConsole.Option("--gan-weight", "Weight of the GAN term, times the adaptive λ_GAN (official 1).", defaults.GanWeight);
var lrDecay = SampleConsole.Option("--lr-decay", "CTM learning-rate decay: none (official), linear or cosine.", defaults.Decay.ToString().ToLowerInvariant());
lrDecay.AcceptOnlyFromAmong("none", "linear", "cosine");
var teacherDecay = SampleConsole.Option("--teacher-lr-decay", "Teacher learning-rate decay to 1 % over its run: none (EDM, constant), linear or cosine.", defaults.TeacherDecay.ToString().ToLowerInvariant());
teacherDecay.AcceptOnlyFromAmong("none", "linear", "cosine");
var teacherPMean = SampleConsole.Option("--teacher-p-mean", "P_mean of the teacher's log-normal noise-level draw (EDM -1.2).", defaults.TeacherPMean);
var teacherPStd = SampleConsole.Option("--teacher-p-std", "P_std of the teacher's log-normal noise-level draw (EDM 1.2).", defaults.TeacherPStd);
var dsmPMean = SampleConsole.Option("--dsm-p-mean", "P_mean of the DSM term's log-normal noise-level draw (official -1.2).", defaults.DsmPMean);
var dsmPStd = SampleConsole.Option("--dsm-p-std", "P_std of the DSM term's log-normal noise-level draw (official 1.2).", defaults.DsmPStd);
var decayStart = SampleConsole.Option("--decay-start", "Fraction of the CTM run where the decay starts (it ends at the last iteration).", defaults.DecayStartFraction);
var decayFinal = SampleConsole.Option("--decay-final", "Final CTM learning rate as a fraction of --ctm-lr.", defaults.DecayFinalFactor);
var command = new RootCommand("Ctm.Core 2-D demo: EDM teacher → CTM distillation → sampler table, quality targets and plots.")
{
    dataset, pointBlur, quick, teacherSteps, ctmSteps, noGan, noDsm, selfTeacher, seed, outDir, batch, ctmBatch, ctmLr, ganStart, targetEma, evalEma, threads,
    reuseTeacher, sequential, hidden, blocks, embScale, teacherLr, grid, maxTeacherSteps, discHidden, discFourier, discFourierScale, discLr, huber, sigmaMax, ganWeight,
    lrDecay, decayStart, decayFinal, bank, teacherDecay, teacherPMean, teacherPStd, dsmPMean, dsmPStd,
};
pointBlur.Validators.Add(v =>
{
    if (v.GetValueOrDefault<double?>() is double h && !(h > 0 && double.IsFinite(h))) v.AddError(FormattableString.Invariant($"--blur must be > 0 (the scaled frame spans about [-1, 1]), got {h}."));
});
command.Validators.Add(c =>
{
    // (an invalid --blur is its own validator's error)
    string set = c.GetValue(dataset) ?? "both";
    if (c.GetValue(pointBlur) is double h && h > 0 && !set.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        c.AddError($"--blur sets the kernel width of a CSV --dataset; '{set}' is built in, with an exact density of its own. Drop --blur or give a .csv file.");
});
// Settings the pipeline or the library would reject once training starts are checked before anything runs and reported
// by their flag (Run; ToyConfig and library option names map to the flags that set them).
var flagOf = new Dictionary<string, string>
{
    ["ToyConfig.TeacherSteps"] = "--teacher-steps", ["ToyConfig.CtmSteps"] = "--ctm-steps", ["ToyConfig.Batch"] = "--batch",
    ["ToyConfig.CtmBatch"] = "--ctm-batch", ["ToyConfig.GanStartFraction"] = "--gan-start", ["ToyConfig.DecayStartFraction"] = "--decay-start",
    ["ToyConfig.HuberC"] = "--huber", ["ToyConfig.DiscriminatorHidden"] = "--disc-hidden",
    ["ToyConfig.DiscriminatorFourierFeatures"] = "--disc-fourier", ["ToyConfig.DiscriminatorFourierScale"] = "--disc-fourier-scale", ["ToyConfig.TrajectoryBank"] = "--trajectory-bank",
    ["MlpOptions.Hidden"] = "--hidden", ["MlpOptions.Blocks"] = "--blocks", ["MlpOptions.EmbeddingScale"] = "--emb-scale",
    ["CtmOptions.SigmaMax"] = "--sigma-max",
    ["EdmTrainingOptions.LearningRate"] = "--teacher-lr", ["EdmTrainingOptions.PMean"] = "--teacher-p-mean", ["EdmTrainingOptions.PStd"] = "--teacher-p-std",
    ["CtmTrainingOptions.LearningRate"] = "--ctm-lr", ["CtmTrainingOptions.TargetEmaRate"] = "--target-ema", ["CtmTrainingOptions.EvalEmaRate"] = "--eval-ema",
    ["CtmTrainingOptions.GridPoints"] = "--grid", ["CtmTrainingOptions.MaxTeacherSteps"] = "--max-teacher-steps (with --grid)",
    ["CtmTrainingOptions.DiscriminatorLearningRate"] = "--disc-lr", ["CtmTrainingOptions.GanWeight"] = "--gan-weight",
    ["CtmTrainingOptions.DecayFinalFactor"] = "--decay-final", ["CtmTrainingOptions.DsmPMean"] = "--dsm-p-mean", ["CtmTrainingOptions.DsmPStd"] = "--dsm-p-std",
};
threads.Validators.Add(v =>
{
    if (v.GetValueOrDefault<int?>() is int t && t < 1) v.AddError($"--threads must be ≥ 1 (libtorch CPU threads per data set), got {t}.");
});
command.SetAction(r => Run(r));
return SampleConsole.Run(command, args);

int Run(ParseResult r)
{
    using var loggers = SampleConsole.Logging();
    var log = loggers.CreateLogger("Toy2D");
    var d = r.GetValue(quick) ? quickDefaults : defaults;
    var cfg = defaults with
    {
        TeacherSteps = r.GetValue(teacherSteps) ?? d.TeacherSteps,
        CtmSteps = r.GetValue(ctmSteps) ?? d.CtmSteps,
        Gan = !r.GetValue(noGan),
        DsmWeight = r.GetValue(noDsm) ? 0.0 : 1.0,
        TeacherMode = r.GetValue(selfTeacher) ? TeacherMode.SelfTeacher : TeacherMode.Teacher,
        EvalSamples = d.EvalSamples,
        SwdSamples = d.SwdSamples,
        Batch = r.GetValue(batch),
        CtmBatch = r.GetValue(ctmBatch),
        CtmLearningRate = r.GetValue(ctmLr),
        GanStartFraction = r.GetValue(ganStart),
        TargetEmaRate = r.GetValue(targetEma),
        EvalEmaRate = r.GetValue(evalEma),
        Seed = r.GetValue(seed),
        Hidden = r.GetValue(hidden),
        Blocks = r.GetValue(blocks),
        EmbeddingScale = r.GetValue(embScale),
        TeacherLearningRate = r.GetValue(teacherLr),
        GridPoints = r.GetValue(grid),
        MaxTeacherSteps = r.GetValue(maxTeacherSteps),
        TrajectoryBank = r.GetValue(bank) ?? d.TrajectoryBank,
        DiscriminatorHidden = r.GetValue(discHidden),
        DiscriminatorFourierFeatures = r.GetValue(discFourier),
        DiscriminatorFourierScale = r.GetValue(discFourierScale),
        DiscriminatorLearningRate = r.GetValue(discLr),
        HuberC = r.GetValue(huber),
        SigmaMax = r.GetValue(sigmaMax),
        GanWeight = r.GetValue(ganWeight),
        Decay = Enum.Parse<LearningRateDecay>(r.GetValue(lrDecay)!, ignoreCase: true),
        DecayStartFraction = r.GetValue(decayStart),
        DecayFinalFactor = r.GetValue(decayFinal),
        TeacherDecay = Enum.Parse<LearningRateDecay>(r.GetValue(teacherDecay)!, ignoreCase: true),
        TeacherPMean = r.GetValue(teacherPMean), TeacherPStd = r.GetValue(teacherPStd),
        DsmPMean = r.GetValue(dsmPMean), DsmPStd = r.GetValue(dsmPStd),
    };
    if (Toy2DPipeline.Problems(cfg) is { Count: > 0 } problems)
    {
        foreach (string problem in problems)
            Console.Error.WriteLine(flagOf.TryGetValue(problem.Split(" = ", 2)[0], out var flag) ? $"{flag}: {problem}" : problem);
        Console.Error.WriteLine("Nothing was trained; see --help for every option and its default.");
        return 1;
    }
    string output = r.GetValue(outDir)!;
    string key = r.GetValue(dataset)!;
    var sets = key == "both" ? new[] { ToyData.Create("ring"), ToyData.Create("checkerboard") }
        : new IToyData[] { r.GetValue(pointBlur) is double blur ? PointCloudData.Load(key, blur) : ToyData.Create(key) };
    bool concurrent = !r.GetValue(sequential);

    log.LogInformation("Ctm.Core 2-D demo: teacher {TeacherSteps} steps at batch {Batch}, CTM {CtmSteps} steps at batch {CtmBatch}, GAN {Gan}, DSM weight {Dsm}, {Mode}; {Layout}",
        cfg.TeacherSteps, cfg.Batch, cfg.CtmSteps, cfg.CtmBatchSize, cfg.Gan ? "on" : "off", cfg.DsmWeight, cfg.TeacherMode,
        concurrent && sets.Length > 1 ? $"{sets.Length} data sets side by side, one core each" : "one data set at a time");
    var total = Stopwatch.StartNew();
    List<Toy2DResult> results = null!;
    SampleConsole.WithProgress(log, tasks => results = Toy2DRun.Run(sets, cfg, output, tasks.Add, concurrent,
        r.GetValue(reuseTeacher) ? output : null, r.GetValue(threads)));
    var allTargets = new List<(bool Pass, string Text)>();
    foreach (var result in results)
    {
        Console.WriteLine();
        Console.Write(result.Report);
        allTargets.AddRange(result.Targets);
        result.Data.Dispose();
    }
    Console.WriteLine();
    Console.WriteLine($"targets: {allTargets.Count(t => t.Pass)} of {allTargets.Count} PASS");
    log.LogInformation("total {Seconds:F0} s", total.Elapsed.TotalSeconds);
    return 0;
}
