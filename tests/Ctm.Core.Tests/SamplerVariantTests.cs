using System;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Diagnostics;
using Ctm.Core.Sampling;
using Ctm.Core.Schedules;
using Ctm.Core.Solvers;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// DPM-Solver-2, DPM-Solver++(2M), ancestral Euler and jump schedules against the exact analytic models: observed
/// convergence orders, the exact law of ancestral sampling on a Gaussian, and schedule equivalences.
/// </summary>
[Collection("Torch")]
public sealed class SamplerVariantTests
{
    private readonly ITestOutputHelper _out;
    public SamplerVariantTests(ITestOutputHelper output) => _out = output;

    private static GaussianMixtureModel AccurateMixture() => new(
        new[] { 0.5, 0.3, 0.2 },
        new[] { new[] { -1.0, 0.0 }, new[] { 1.0, 0.5 }, new[] { 0.2, -1.2 } },
        new[] { 0.1, 0.3, 0.05 }, dtype: ScalarType.Float64, stepsPerUnitLogSigma: 80);   // reference G* to ~1e-8

    [Theory]
    [InlineData("dpm2")]
    [InlineData("dpm++2m")]
    public void DpmSolvers_GlobalErrorHasOrderTwo_OnTheGaussianAndTheMixture(string name)
    {
        IOdeSolver solver = name == "dpm2" ? DpmSolver2.Instance : DpmSolverPlusPlus2M.Instance;
        var gaussian = SolverConvergenceTests.ObservedOrders(solver, out var errors);
        _out.WriteLine($"{name} Gaussian: errors {string.Join(", ", errors.Select(e => e.ToString("E2")))}; orders {string.Join(", ", gaussian.Select(o => o.ToString("F3")))}");
        Assert.InRange(gaussian[^1], 1.8, 2.2);
        using var mixture = AccurateMixture();
        var r = ConvergenceStudy.Run(solver, mixture, new[] { 64, 128, 256, 512 });
        _out.WriteLine($"{name} mixture: errors {string.Join(", ", r.Errors.Select(e => e.ToString("E2")))}; orders {string.Join(", ", r.Orders.Select(o => o.ToString("F3")))}");
        Assert.InRange(r.Orders[^1], 1.8, 2.2);
    }

    [Fact]
    public void DpmSolvers_CountEvaluations_AndStepToZeroIsEuler()
    {
        using var m = new GaussianModel(new[] { 0.3 }, 0.5, dtype: ScalarType.Float64);
        using var x = full(new long[] { 4, 1 }, 2.0, dtype: ScalarType.Float64);
        foreach (var (solver, expected) in new (IOdeSolver, int)[] { (DpmSolver2.Instance, 35), (DpmSolverPlusPlus2M.Instance, 18) })
        {
            var counter = new CountingDenoiser(m);
            var reports = new System.Collections.Generic.List<SamplingProgress>();
            using var y = solver.Solve(counter, x, KarrasSchedule.EdmGrid(18), progress: new SyncProgress<SamplingProgress>(reports.Add));
            Assert.Equal(expected, counter.Calls);
            Assert.Equal(18, reports.Count);
        }
        // One step to 0 returns the denoised state exactly, for both.
        using var t = tensor(1.5, dtype: ScalarType.Float64);
        using var zero = tensor(0.0, dtype: ScalarType.Float64);
        using var d = m.Denoise(x, 1.5);
        using var a = DpmSolver2.Instance.Step(m, x, t, zero);
        using var b = DpmSolverPlusPlus2M.Instance.Step(m, x, t, zero);
        TensorAssert.Close(d, a, 1e-12, 1e-12);
        TensorAssert.Close(d, b, 1e-12, 1e-12);
    }

    /// <summary>Var of ancestral Euler's output on N(μ, s²) with the exact denoiser, by the per-step linear recursion.</summary>
    private static double AncestralVariance(double[] grid, double s2)
    {
        double v = grid[0] * grid[0];
        for (int i = 0; i < grid.Length - 1; i++)
        {
            double s = grid[i], sn = grid[i + 1];
            double shrink = s2 / (s2 + s * s);          // D = μ + shrink·(x − μ)
            if (sn == 0) { v *= shrink * shrink; continue; }
            double up = Math.Sqrt(sn * sn * (s * s - sn * sn) / (s * s)), down = Math.Sqrt(sn * sn - up * up);
            double a = 1 + (down - s) / s * (1 - shrink);
            v = a * a * v + up * up;
        }
        return v;
    }

    [Fact]
    public void AncestralEuler_ReproducesTheExactLawOfItsSteps_AndConvergesWithWeakOrderOne()
    {
        // With the exact Gaussian denoiser every step is linear, so the output law is known exactly for each grid: the
        // samples must match it (this checks the code), and its distance to the data law must halve as the grid
        // doubles (weak order 1, the property of the scheme the code is shown to implement).
        const int n = 50_000, dim = 4;
        using var m = new GaussianModel(new[] { 0.5, -0.25, 0.0, 1.0 }, 0.5, dtype: ScalarType.Float64);
        var sampler = new AncestralEulerSampler(m, new long[] { dim });
        var steps = new[] { 16, 32, 64, 128 };
        var exactErrors = new double[steps.Length];
        var sampledErrors = new double[steps.Length];
        for (int k = 0; k < steps.Length; k++)
        {
            var grid = KarrasSchedule.EdmGrid(steps[k]);
            using var gen = new Generator((ulong)(100 + k));
            using var x = sampler.Sample(n, grid, generator: gen);
            double variance = AncestralVariance(grid, 0.25);
            var z = MomentCheck.ZScores(x, m.Mean.Select(v => v * (1 - ExactMeanLoss(grid))).ToArray(), Enumerable.Repeat(variance, dim).ToArray());
            _out.WriteLine($"ancestral Euler, {steps[k]} points: output variance {variance:F5} (data 0.25); sample z = {string.Join(", ", z.Select(v => v.ToString("F2")))}");
            Assert.All(z, v => Assert.InRange(Math.Abs(v), 0, 4));
            exactErrors[k] = Math.Abs(variance - 0.25);
            using var var = x.var(0);
            sampledErrors[k] = Math.Abs(var.mean().item<double>() - 0.25);
        }
        double[] Orders(double[] e) => Enumerable.Range(0, e.Length - 1).Select(i => Math.Log(e[i] / e[i + 1]) / Math.Log(2)).ToArray();
        var exact = Orders(exactErrors);
        var sampled = Orders(sampledErrors);
        _out.WriteLine($"weak errors |Var − s²|: exact law {string.Join(", ", exactErrors.Select(e => e.ToString("E3")))}, orders {string.Join(", ", exact.Select(o => o.ToString("F3")))}; " +
            $"sampled {string.Join(", ", sampledErrors.Select(e => e.ToString("E3")))}, orders {string.Join(", ", sampled.Select(o => o.ToString("F3")))}");
        Assert.InRange(exact[^1], 0.85, 1.15);
        Assert.All(sampled, o => Assert.InRange(o, 0.5, 1.5));
    }

    /// <summary>The mean starts at 0 (x_T = σ_max·z) and contracts to μ; the share of μ not reached, by the same recursion.</summary>
    private static double ExactMeanLoss(double[] grid)
    {
        // E[x − μ] follows e ← a·e (ancestral noise has mean 0); e_0 = −μ.
        double e = 1;
        for (int i = 0; i < grid.Length - 1; i++)
        {
            double s = grid[i], sn = grid[i + 1], shrink = 0.25 / (0.25 + s * s);
            if (sn == 0) { e *= shrink; continue; }
            double up = Math.Sqrt(sn * sn * (s * s - sn * sn) / (s * s)), down = Math.Sqrt(sn * sn - up * up);
            e *= 1 + (down - s) / s * (1 - shrink);
        }
        return e;
    }

    [Fact]
    public void AncestralEuler_WithEtaZeroIsEulersOde()
    {
        using var m = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, dtype: ScalarType.Float64);
        using var gen = new Generator(3);
        using var xT = randn(new long[] { 64, 2 }, dtype: ScalarType.Float64, generator: gen) * 80;
        var grid = KarrasSchedule.EdmGrid(12);
        using var a = new AncestralEulerSampler(m, new long[] { 2 }, eta: 0).Sample(xT, grid, generator: gen);
        using var e = EulerSolver.Instance.Solve(m, xT, grid);
        TensorAssert.Close(e, a, 1e-12, 1e-12);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.4)]
    [InlineData(1.0)]
    public void GammaSchedule_ThroughTheJumpSampler_EqualsTheGammaSampler(double gamma)
    {
        using var m = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, dtype: ScalarType.Float64);
        var grid = KarrasSchedule.SamplingGrid(4);
        using var g1 = new Generator(9);
        using var g2 = new Generator(9);
        using var a = new GammaSampler(m, new long[] { 2 }).Sample(256, gamma, grid, generator: g1);
        using var b = new JumpScheduleSampler(m, new long[] { 2 }).Sample(256, JumpSchedule.Gamma(m, grid, gamma), generator: g2);
        TensorAssert.Close(a, b, 0, 0);
    }

    [Fact]
    public void ExactJumpsThroughAnyIntermediateTime_LandOnTheExactTrajectory()
    {
        using var m = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, dtype: ScalarType.Float64);
        using var gen = new Generator(4);
        using var xT = randn(new long[] { 128, 2 }, dtype: ScalarType.Float64, generator: gen) * 80;
        using var direct = m.Jump(xT, 80.0, 0.002);
        var sampler = new JumpScheduleSampler(m, new long[] { 2 });
        foreach (var schedule in new[]
        {
            JumpSchedule.Gamma(m, new[] { 80, 1.3, 0.002 }, 0.0),        // NFE 2 through a chosen time
            JumpSchedule.GridIndices(m, new[] { 0, 20, 39 }, 40),       // the official --ts 0,20,39 on the 40-point grid
            JumpSchedule.RenoisedTwoJumps(m, 0.7, 0.7),                   // sample_gamma with ind_1 = ind_2
        })
        {
            using var y = sampler.Sample(xT, schedule, generator: gen);
            _out.WriteLine($"{schedule}: max |Δ| {TensorAssert.Max((y - direct).abs()):E2}");
            TensorAssert.Close(direct, y, 1e-10, 1e-10);
        }
        var official = JumpSchedule.GridIndices(m, new[] { 0, 20, 39 }, 40);
        Assert.Equal(KarrasSchedule.Sigmas(40)[20], official.To[0], 12);
        Assert.Equal(0.002, official.To[1], 12);
    }

    [Fact]
    public void RenoisedTwoJumps_KeepsTheDataLaw()
    {
        using var m = GammaSamplingMomentTests.TestMixture();
        var sampler = new JumpScheduleSampler(m, new long[] { 2 });
        using var gen = new Generator(21);
        // sample_gamma's recipe: jump to t₁ = 0.5, re-noise up to t₂ = 3 (above t₁), jump to σ_min.
        using var x = sampler.Sample(10_000, JumpSchedule.RenoisedTwoJumps(m, 0.5, 3.0), generator: gen);
        using var r = m.Responsibilities(x);
        using var mode = r.argmax(1);
        var z = MomentCheck.ProportionZScores(mode, m.Weights);
        _out.WriteLine($"mode weights z = {string.Join(", ", z.Select(v => v.ToString("F2")))}");
        Assert.All(z, v => Assert.InRange(Math.Abs(v), 0, 3));
    }

    [Fact]
    public void BadSchedulesAndArgumentsAreNamed()
    {
        using var paper = new GaussianModel(new[] { 0.0 }, 0.5, dtype: ScalarType.Float64);   // σ ∈ [0.002, 80]
        Assert.Throws<ArgumentException>(() => new JumpSchedule(paper, new[] { 80.0, 1.0 }, new[] { 2.0, 0.002 }));   // lands at 2 > next start 1
        Assert.Throws<ArgumentException>(() => new JumpSchedule(paper, new[] { 1.0 }, new[] { 2.0 }));                // s > t
        Assert.Throws<ArgumentException>(() => new JumpSchedule(paper, new[] { 100.0 }, new[] { 0.002 }));            // above σ_max
        Assert.Throws<ArgumentException>(() => JumpSchedule.GridIndices(paper, new[] { 0, 20, 20 }, 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => JumpSchedule.GridIndices(paper, new[] { 0, 40 }, 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => JumpSchedule.Gamma(paper, new[] { 80.0, 0.002 }, 1.5));
        using var m = new GaussianModel(new[] { 0.0 }, 0.5, options: new CtmOptions { SigmaMax = 10 }, dtype: ScalarType.Float64);
        // A schedule built for another model's range is refused by the sampler, naming it.
        var e = Assert.Throws<ArgumentException>(() => new JumpScheduleSampler(m, new long[] { 1 }).Sample(2, JumpSchedule.Gamma(paper, KarrasSchedule.SamplingGrid(2), 0)));
        Assert.Equal("schedule", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AncestralEulerSampler(m, new long[] { 1 }, eta: 2));
    }

    [Fact]
    public void SchedulesAndDefaultGrids_ReadTheModelsSchedule()
    {
        // A model with ρ = 5 and σ_max = 20: the jump schedules and the ancestral sampler's default grid use them, not
        // the paper's 7 and 80 (issue 11: the schedule belongs to the model).
        var options = new CtmOptions { Rho = 5, SigmaMax = 20 };
        using var m = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, options: options, dtype: ScalarType.Float64);
        var official = JumpSchedule.GridIndices(m, new[] { 0, 20, 39 }, 40);
        Assert.Equal(KarrasSchedule.Sigmas(40, 0.002, 20, 5)[20], official.To[0], 12);
        Assert.Equal(20, official.From[0], 12);
        var twoJumps = JumpSchedule.RenoisedTwoJumps(m, 0.5, 3.0);
        Assert.Equal(new[] { 20.0, 3.0 }, twoJumps.From);
        Assert.Equal(new[] { 0.5, 0.002 }, twoJumps.To);
        var ancestral = new AncestralEulerSampler(m, new long[] { 2 });
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        using var a = ancestral.Sample(64, 6, generator: g1);
        using var b = ancestral.Sample(64, KarrasSchedule.EdmGrid(6, 0.002, 20, 5), generator: g2);
        TensorAssert.Close(a, b, 0, 0);
    }

    [Fact]
    public void RepeatedRuns_LeaveNoLiveTensors()
    {
        using var m = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, dtype: ScalarType.Float64);
        using var x = ones(4, 2, dtype: ScalarType.Float64);
        using var gen = new Generator(2);
        var jumps = new JumpScheduleSampler(m, new long[] { 2 }, (-3, 3));
        var ancestral = new AncestralEulerSampler(m, new long[] { 2 });
        void Once()
        {
            jumps.Sample(8, JumpSchedule.RenoisedTwoJumps(m, 0.5, 2.0), generator: gen).Dispose();
            ancestral.Sample(8, 20, generator: gen).Dispose();
            DpmSolverPlusPlus2M.Instance.Solve(m, x, KarrasSchedule.EdmGrid(30)).Dispose();
            DpmSolver2.Instance.Solve(m, x, KarrasSchedule.EdmGrid(30)).Dispose();
        }
        Once();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++) Once();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
