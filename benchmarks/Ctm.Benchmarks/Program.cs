// Ctm.Core benchmarks. Speed and quality targets live here (printed numbers), not in timed unit tests.
//
//   ./build.sh bench                 quality report: solver convergence orders, γ-sampling moment z-scores
//   ./build.sh bench perf [bdn args] BenchmarkDotNet throughput of sampling (CTM MLP, teacher Heun)
//   ./build.sh bench toy2d [--quick]  2-D targets: teacher vs CTM tables for both data sets, plus ablations
//   ./build.sh bench likelihood [--quick]  PF-ODE likelihood vs closed forms; NLL of a trained 2-D CTM vs the entropy
//   ./build.sh bench mnist [--quick]  MNIST: classifier (FD features), teacher, CTM with GAN; FD table and targets
//   ./build.sh bench mnist-gamma [--quick] [--cache DIR]  the γ × NFE study on the cached (or freshly trained) MNIST models
//   ./build.sh bench adm [--threads N] [--batches 1,4]  ImageNet-64 ADM network: parameter counts, NFE-1 CPU time per image
//   ./build.sh bench mnist-samplers --ctm FILE --cache [--quick]  NFE vs FD of the sampler variants on a saved MNIST CTM
using System;
using System.Linq;
using BenchmarkDotNet.Running;
using Ctm.Benchmarks;

var verb = args.FirstOrDefault() ?? "quality";
switch (verb)
{
    case "quality":
        QualityReport.Run(args.Skip(1).ToArray());
        break;
    case "toy2d":
        Toy2DReport.Run(args.Skip(1).ToArray());
        break;
    case "likelihood":
        LikelihoodReport.Run(args.Skip(1).ToArray());
        break;
    case "mnist":
        MnistReport.Run(args.Skip(1).ToArray());
        break;
    case "mnist-gamma":
        MnistGammaStudy.Run(args.Skip(1).ToArray());
        break;
    case "mnist-samplers":
        MnistSamplerReport.Run(args.Skip(1).ToArray());
        break;
    case "adm":
        AdmReport.Run(args.Skip(1).ToArray());
        break;
    case "perf":
        BenchmarkSwitcher.FromAssembly(typeof(SamplingBenchmarks).Assembly).Run(args.Skip(1).ToArray());
        break;
    default:
        Console.Error.WriteLine($"unknown verb '{verb}': use 'quality' (default), 'toy2d', 'likelihood', 'mnist', 'mnist-gamma', 'mnist-samplers', 'adm' or 'perf'.");
        Environment.Exit(2);
        break;
}
