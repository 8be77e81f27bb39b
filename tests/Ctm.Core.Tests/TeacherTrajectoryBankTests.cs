using System;
using Ctm.Core.Analytic;
using Ctm.Core.Schedules;
using Ctm.Core.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>CtmTrainingOptions.TrajectoryBankSize: x_t and the teacher's x_u read from trajectories solved once (the
/// exact-model loss with a bank: CtmLossTests.ExactModel_HeunTeacher_CtmLossVanishesAsTheGridRefines).</summary>
[Collection("Torch")]
public class TeacherTrajectoryBankTests
{
    private readonly ITestOutputHelper _out;
    public TeacherTrajectoryBankTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void BankPairs_AreTheTeachersHeunSegments()
    {
        // x_u read from the bank must be k Heun steps of the teacher from the x_t of the same row, on the same grid.
        using var m = new GaussianModel(new[] { 0.3, -0.1 }, 0.5, dtype: ScalarType.Float64);
        var grid = KarrasSchedule.Sigmas(17, m.SigmaMin, m.SigmaMax, m.Rho);
        const long size = 300;
        using var bank = TeacherTrajectoryBank.Build(m, grid, size, new long[] { 2 }, 128, seed: 3, ScalarType.Float64, CPU);
        using var rows = tensor(new long[] { 0, 7, 128, 299, 150 });
        foreach (var (n, k) in new[] { (0, 1), (0, 16), (3, 5), (11, 5), (15, 1) })
        {
            using var scope = NewDisposeScope();
            var x = bank.At(full(new[] { rows.shape[0] }, n, dtype: ScalarType.Int64), rows);
            for (int i = n; i < n + k; i++)
                x = Ctm.Core.Solvers.HeunSolver.StepPositiveNoGrad(m, x, full(new[] { rows.shape[0] }, grid[i], dtype: ScalarType.Float64),
                    full(new[] { rows.shape[0] }, grid[i + 1], dtype: ScalarType.Float64), null);
            var xu = bank.At(full(new[] { rows.shape[0] }, n + k, dtype: ScalarType.Int64), rows);
            Assert.True(xu.allclose(x, rtol: 0, atol: 1e-12), $"n = {n}, k = {k}: max |Δ| {(xu - x).abs().max().item<double>()}");
            if (n == 0)   // the trajectories start at σ_max·z: spread like σ_max, not like the data
                Assert.InRange(bank.At(full(new[] { size }, 0, dtype: ScalarType.Int64), arange(size)).std().item<double>(), 0.8 * grid[0], 1.2 * grid[0]);
        }
    }

    [Fact]
    public void TheSolveChunk_ChangesOnlyTheSpeed()
    {
        // The bank's noise is drawn for all trajectories before solving, so solving 64 or 1,000 or all at a time gives
        // the same bank (CtmLoss picks the chunk by device and sample size).
        using var m = new GaussianMixtureModel(new[] { 1.0, 2.0 }, new[] { new[] { -1.0, 0.5 }, new[] { 1.0, 0.0 } },
            new[] { 0.2, 0.1 }, dtype: ScalarType.Float64);
        var grid = KarrasSchedule.Sigmas(9, m.SigmaMin, m.SigmaMax, m.Rho);
        const long size = 1000;
        using var whole = TeacherTrajectoryBank.Build(m, grid, size, new long[] { 2 }, size, seed: 4, ScalarType.Float64, CPU);
        using var rows = arange(size, dtype: ScalarType.Int64);
        foreach (long chunk in new long[] { 64, 333 })
        {
            using var chunked = TeacherTrajectoryBank.Build(m, grid, size, new long[] { 2 }, chunk, seed: 4, ScalarType.Float64, CPU);
            for (int n = 0; n < grid.Length; n++)
            {
                using var index = full(new[] { size }, n, dtype: ScalarType.Int64);
                using var a = whole.At(index, rows);
                using var b = chunked.At(index, rows);
                Assert.True(b.allclose(a, rtol: 0, atol: 1e-12), $"chunk {chunk}, grid point {n}: max |Δ| {(a - b).abs().max().item<double>()}");
            }
        }
    }

    [Fact]
    public void ConditionalTeacher_EachTrajectoryEndsInItsOwnClass()
    {
        // Two classes at x = −1 and x = +1: the label the bank hands out with a row must be the one its trajectory was
        // solved with, so every trajectory ends at its label's component, and both classes are drawn.
        using var m = new GaussianMixtureModel(new[] { 1.0, 1.0 }, new[] { new[] { -1.0, 0.0 }, new[] { 1.0, 0.0 } },
            new[] { 0.1, 0.1 }, componentClasses: new[] { 0, 1 }, dtype: ScalarType.Float64);
        var grid = KarrasSchedule.Sigmas(17, m.SigmaMin, m.SigmaMax, m.Rho);
        const long size = 400;
        using var bank = TeacherTrajectoryBank.Build(m, grid, size, new long[] { 2 }, 128, seed: 9, ScalarType.Float64, CPU);
        using var rows = arange(size, dtype: ScalarType.Int64);
        using var labels = bank.Labels(rows);
        Assert.NotNull(labels);
        using var end = bank.At(full(new[] { size }, grid.Length - 1, dtype: ScalarType.Int64), rows);
        using var side = end.select(1, 0).gt(0).to_type(ScalarType.Int64);
        Assert.True(side.eq(labels!).all().item<bool>(), "a trajectory ended outside its label's component");
        long ones = labels!.sum().item<long>();
        Assert.InRange(ones, size / 2 - 60, size / 2 + 60);
    }

    [Fact]
    public void BankPoints_FollowTheTeachersMarginal()
    {
        // For N(μ, σ_d² I) data the exact flow from N(0, σ_max² I) has mean μ(1 − r) and variance
        // σ_max²(σ_d² + t²)/(σ_d² + σ_max²) at t, r = √((σ_d² + t²)/(σ_d² + σ_max²)); Heun on 40 points is close.
        double[] mu = { 0.3, -0.1 };
        const double sd = 0.5;
        using var m = new GaussianModel(mu, sd, dtype: ScalarType.Float64);
        double sMax = m.SigmaMax;
        var grid = KarrasSchedule.Sigmas(40, m.SigmaMin, m.SigmaMax, m.Rho);
        const long size = 20_000;
        using var bank = TeacherTrajectoryBank.Build(m, grid, size, new long[] { 2 }, 4096, seed: 5, ScalarType.Float64, CPU);
        using var rows = arange(size, dtype: ScalarType.Int64);
        foreach (int n in new[] { 0, 20, 39 })
        {
            using var index = full(new[] { size }, n, dtype: ScalarType.Int64);
            using var x = bank.At(index, rows);
            double t = grid[n], r = Math.Sqrt((sd * sd + t * t) / (sd * sd + sMax * sMax));
            double variance = sMax * sMax * (sd * sd + t * t) / (sd * sd + sMax * sMax);
            for (int d = 0; d < 2; d++)
            {
                using var col = x.select(1, d);
                double mean = col.mean().item<double>(), v = col.var().item<double>();
                double se = Math.Sqrt(variance / size);
                _out.WriteLine($"n={n} t={t:G4} d={d}: mean {mean:F4} (exact {mu[d] * (1 - r):F4}, SE {se:F4}), var {v:G4} (exact {variance:G4})");
                Assert.InRange(mean, mu[d] * (1 - r) - 5 * se, mu[d] * (1 - r) + 5 * se);
                Assert.InRange(v / variance, 1 - 5 * Math.Sqrt(2.0 / size), 1 + 5 * Math.Sqrt(2.0 / size));
            }
        }
    }

    [Fact]
    public void SameSeed_SameBankAndLoss_AcrossLossInstances()
    {
        // A resumed run builds a new loss; it must rebuild the same bank (its own generator, seeded from Seed).
        using var m = new GaussianModel(new[] { 0.3, -0.1 }, 0.5, dtype: ScalarType.Float64);
        double Once(ulong seed)
        {
            using var loss = new CtmLoss(m, m, m, new CtmTrainingOptions
            {
                GridPoints = 12, MaxTeacherSteps = 5, DsmWeight = 0, AdaptiveWeights = false, TrajectoryBankSize = 300, Seed = seed,
            });
            using var g = new Generator(3);
            using var x0 = m.SampleData(64, g);
            var (est, tgt) = loss.EstimateAndTarget(x0, null, g, k: 2);
            double v = est.sum().item<double>() + 3 * tgt.sum().item<double>();
            est.Dispose(); tgt.Dispose();
            return v;
        }
        Assert.Equal(Once(7), Once(7));
        Assert.NotEqual(Once(7), Once(8));
    }

    [Theory]
    [InlineData(-1, TeacherMode.Teacher)]
    [InlineData(100, TeacherMode.SelfTeacher)]
    public void InvalidBankSettings_AreRejectedByName(int size, TeacherMode mode)
    {
        var o = new CtmTrainingOptions { TrajectoryBankSize = size, TeacherMode = mode };
        var e = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Contains("TrajectoryBankSize", e.Message);
    }
}
