using System;
using System.Diagnostics;
using System.Linq;
using Ctm.Core;
using Ctm.Core.Analytic;
using Ctm.Core.Diagnostics;
using Ctm.Core.Sampling;
using Ctm.Core.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks;

/// <summary>The foundation's quality figures: solver orders and γ-sampling fidelity with exact models.</summary>
public static class QualityReport
{
    public static void Run(string[] args)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        Console.WriteLine($"Ctm.Core quality report — TorchSharp {typeof(torch).Assembly.GetName().Version}, {Environment.ProcessorCount} threads, CPU, float64");
        Console.WriteLine();
        Orders();
        Console.WriteLine();
        GammaMoments(n: 20_000);
    }

    private static void Orders()
    {
        Console.WriteLine("1. Global error vs exact G* on N([0.5, -0.25], 0.25 I), x_T = 80 z, 80 -> 0.002 on Karras grids");
        using var m = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, dtype: ScalarType.Float64);
        int[] steps = { 32, 64, 128, 256, 512 };
        foreach (var (name, solver) in new (string, IOdeSolver)[] { ("Euler", EulerSolver.Instance), ("Heun", HeunSolver.Instance) })
        {
            var r = ConvergenceStudy.Run(solver, m, steps);
            Console.WriteLine($"   {name,-6} steps {string.Join(" ", r.Steps.Select(s => s.ToString().PadLeft(9)))}");
            Console.WriteLine($"   {"",-6} error {string.Join(" ", r.Errors.Select(e => e.ToString("E2").PadLeft(9)))}");
            Console.WriteLine($"   {"",-6} order {"",5}{string.Join(" ", r.Orders.Select(o => o.ToString("F3").PadLeft(9)))}");
        }
    }

    private static void GammaMoments(int n)
    {
        Console.WriteLine($"2. γ-sampling with the exact G*: max |z| of moment errors over {n} samples (|z| <= 3 agrees)");
        Console.WriteLine("   Gaussian: means and variances of both coordinates. Mixture (3 modes): also the mode weights.");
        using var gauss = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, dtype: ScalarType.Float64);
        using var mix = new GaussianMixtureModel(new[] { 0.5, 0.3, 0.2 },
            new[] { new[] { -1.0, 0.0 }, new[] { 1.0, 0.5 }, new[] { 0.2, -1.2 } }, new[] { 0.1, 0.3, 0.05 },
            dtype: ScalarType.Float64, stepsPerUnitLogSigma: 10);
        Console.WriteLine($"   {"γ",5} {"NFE",4} {"Gaussian",9} {"mixture",9} {"time(mix)",10}");
        double worst = 0;
        foreach (var gamma in new[] { 0.0, 0.3, 0.7, 1.0 })
            foreach (var nfe in new[] { 1, 2, 4, 8 })
            {
                using var g1 = new Generator((ulong)(100_000 + nfe * 100 + (int)Math.Round(gamma * 10)));
                using var xg = new GammaSampler(gauss, new long[] { 2 }).Sample(n, gamma, nfe, generator: g1);
                double zg = MomentCheck.ZScores(xg, gauss.Mean, new[] { 0.25 + 4e-6, 0.25 + 4e-6 }).Max(Math.Abs);
                using var g2 = new Generator((ulong)(200_000 + nfe * 100 + (int)Math.Round(gamma * 10)));
                var sw = Stopwatch.StartNew();
                using var xm = new GammaSampler(mix, new long[] { 2 }).Sample(n, gamma, nfe, generator: g2);
                sw.Stop();
                var mean = new double[2]; var var = new double[2];
                for (int d = 0; d < 2; d++)
                {
                    mean[d] = Enumerable.Range(0, 3).Sum(k => mix.Weights[k] * mix.Means[k][d]);
                    var[d] = Enumerable.Range(0, 3).Sum(k => mix.Weights[k] * (mix.Stds[k] * mix.Stds[k] + mix.Means[k][d] * mix.Means[k][d])) - mean[d] * mean[d] + 4e-6;
                }
                using var mode = mix.Responsibilities(xm).argmax(1);
                double zm = MomentCheck.ZScores(xm, mean, var).Concat(MomentCheck.ProportionZScores(mode, mix.Weights)).Max(Math.Abs);
                worst = Math.Max(worst, Math.Max(zg, zm));
                Console.WriteLine($"   {gamma,5:0.0} {nfe,4} {zg,9:F2} {zm,9:F2} {sw.Elapsed.TotalSeconds,9:F1}s");
            }
        Console.WriteLine($"   worst |z| = {worst:F2}");
    }
}
