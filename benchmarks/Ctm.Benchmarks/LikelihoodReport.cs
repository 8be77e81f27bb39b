using System;
using System.Diagnostics;
using System.Linq;
using Ctm.Core;
using Ctm.Core.Analytic;
using Ctm.Core.Likelihood;
using Ctm.Samples;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks;

/// <summary>
/// Exact likelihood (§10): the PF-ODE estimator with exact denoisers against closed forms, then the NLL of a trained
/// 2-D CTM (through its diagonal g(x, σ, σ)) and of its teacher against the true entropy of the data.
/// </summary>
public static class LikelihoodReport
{
    public static void Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int ti = Array.IndexOf(args, "--threads");
        torch.set_num_threads(ti >= 0 && ti + 1 < args.Length ? int.Parse(args[ti + 1]) : Environment.ProcessorCount);
        var sw = Stopwatch.StartNew();
        Console.WriteLine("Exact likelihood through the probability-flow ODE (DOPRI5 rtol = atol = 1e-5, σ_ε = σ_min = 0.002)");
        Console.WriteLine();

        using (var gauss = new GaussianModel(new double[4], 0.5, dtype: ScalarType.Float64))
        using (var g = new Generator(1))
        using (var x = gauss.SampleData(256, g))
        using (var r = ProbabilityFlowLikelihood.LogLikelihood(gauss, x))
        using (var exact = gauss.LogDensity(x, gauss.SigmaMin))
        {
            double err = (r.LogLikelihood - exact).abs().max().item<double>() / 4;
            Console.WriteLine($"  N(0, 0.25·I), D = 4, 256 points, exact denoiser: max |Δ log p|/D = {err:E2} nats/dim (target ≤ 0.005) {(err <= 0.005 ? "PASS" : "FAIL")}; {r.Stats.Evaluations} evaluations");
        }
        using (var ring = GaussianMixtureModel.Ring(dtype: ScalarType.Float64))
        using (var g = new Generator(2))
        using (var x = ring.SampleData(256, g))
        using (var r = ProbabilityFlowLikelihood.LogLikelihood(ring, x))
        using (var exact = ring.LogDensity(x, ring.SigmaMin))
        {
            double err = (r.LogLikelihood - exact).abs().max().item<double>();
            Console.WriteLine($"  8-Gaussian ring (σ = 0.05), 256 points, exact denoiser: max |Δ log p| = {err:E2} nats (target ≤ 0.01) {(err <= 0.01 ? "PASS" : "FAIL")}; {r.Stats.Evaluations} evaluations");
            using var hutch = ProbabilityFlowLikelihood.LogLikelihood(ring, x, new LikelihoodOptions { Divergence = DivergenceMethod.Hutchinson }, generator: g);
            Console.WriteLine($"  same points, Hutchinson (1 Rademacher ε per point): mean log p {hutch.LogLikelihood.mean().item<double>():F4} vs exact {r.LogLikelihood.mean().item<double>():F4}");
        }
        Console.WriteLine();

        // A trained 2-D CTM on the ring, its teacher, and the true density.
        var data = new RingData();
        var c = quick ? new ToyConfig { TeacherSteps = 300, CtmSteps = 200, EvalSamples = 500, TrajectoryBank = 0 } : new ToyConfig { CtmSteps = 2000, TrajectoryBank = 0 }; // the run behind docs/images-and-likelihood.md
        Console.WriteLine($"Training the 2-D ring teacher ({c.TeacherSteps} it) and CTM ({c.CtmSteps} it) …");
        using var teacher = Toy2DPipeline.TrainTeacher(data, c);
        using var ctm = Toy2DPipeline.TrainCtm(data, teacher, c);
        using var gd = new Generator(3);
        using var points = data.Sample(quick ? 256 : 2000, gd);
        using var truth = data.LogDensity(points);
        double entropy = -truth.mean().item<double>();
        Console.WriteLine($"  {"model",-28} {"NLL (nats)",10} {"− entropy",10} {"bits/dim",9} {"NFE",6}");
        Console.WriteLine($"  {"true density (entropy H)",-28} {entropy,10:F4} {0.0,10:F4} {entropy / 2 / Math.Log(2),9:F4} {"-",6}");
        foreach (var (name, model) in new (string, IDenoiser)[] { ("EDM teacher (Heun-trained D)", teacher.Denoiser), ("CTM diagonal g(x,σ,σ)", ctm.Model) })
        {
            using var r = ProbabilityFlowLikelihood.LogLikelihood(model, points);
            double nll = -r.LogLikelihood.mean().item<double>();
            Console.WriteLine($"  {name,-28} {nll,10:F4} {nll - entropy,10:F4} {nll / 2 / Math.Log(2),9:F4} {r.Stats.Evaluations,6}");
        }
        Console.WriteLine($"  (NLL ≥ H for any model; the gap is KL(data ‖ model). {points.shape[0]} data points, exact divergence; {sw.Elapsed.TotalMinutes:F1} min)");
    }
}
