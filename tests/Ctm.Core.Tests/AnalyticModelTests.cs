using System;
using Ctm.Core.Analytic;
using Ctm.Core.Solvers;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

[Collection("Torch")]
public class AnalyticModelTests
{
    private static GaussianModel Gaussian() => new(new[] { 0.3, -0.2, 1.0 }, 0.7, dtype: ScalarType.Float64);

    private static GaussianMixtureModel Mixture() => new(
        new[] { 0.5, 0.3, 0.2 },
        new[] { new[] { -1.0, 0.0 }, new[] { 1.0, 0.5 }, new[] { 0.2, -1.2 } },
        new[] { 0.1, 0.3, 0.05 }, dtype: ScalarType.Float64);

    public static TheoryData<string> Models => new() { "gaussian", "mixture" };

    private static AnalyticModel Make(string name) => name == "gaussian" ? Gaussian() : Mixture();

    [Theory]
    [MemberData(nameof(Models))]
    public void Jump_AtEqualTimes_IsIdentity(string name)
    {
        using var m = Make(name);
        using var g = new Generator(1);
        using var x = randn(64, m.Dimension, dtype: ScalarType.Float64, generator: g) * 3;
        using var t = tensor(3.7, dtype: ScalarType.Float64);
        using var y = m.Jump(x, t, t);
        TensorAssert.Close(x, y, 1e-12, 1e-12);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Predict_OnTheDiagonal_IsTheDenoiser(string name)
    {
        using var m = Make(name);
        using var g = new Generator(2);
        using var x = randn(64, m.Dimension, dtype: ScalarType.Float64, generator: g);
        foreach (var sigma in new[] { 0.002, 0.3, 5.0, 80.0 })
        {
            using var t = tensor(sigma, dtype: ScalarType.Float64);
            using var d = m.Denoise(x, t);
            using var p = m.Predict(x, t, t);
            TensorAssert.Close(d, p, 1e-10, 1e-10);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Jump_IsASemigroup(string name)
    {
        // G*(G*(x, t, u), u, s) = G*(x, t, s)
        using var m = Make(name);
        using var g = new Generator(3);
        using var x = randn(128, m.Dimension, dtype: ScalarType.Float64, generator: g) * 20;
        using var y = m.Jump(x, 20.0, 1.5);
        using var z = m.Jump(y, 1.5, 0.01);
        using var direct = m.Jump(x, 20.0, 0.01);
        TensorAssert.Close(direct, z, 1e-7, 1e-8);
    }

    [Fact]
    public void GaussianJump_MatchesClosedForm()
    {
        using var m = Gaussian();
        using var g = new Generator(4);
        using var x = randn(16, 3, dtype: ScalarType.Float64, generator: g) * 10;
        using var y = m.Jump(x, 10.0, 0.5);
        using var mu = tensor(m.Mean, dtype: ScalarType.Float64).reshape(1, 3);
        double r = Math.Sqrt((0.49 + 0.25) / (0.49 + 100));
        using var expected = mu + r * (x - mu);
        TensorAssert.Close(expected, y, 1e-12, 1e-12);
    }

    [Fact]
    public void MixtureJump_AgreesWithAFineHeunSolveOfTheExactDenoiser()
    {
        using var m = Mixture();
        using var g = new Generator(5);
        using var x = randn(64, 2, dtype: ScalarType.Float64, generator: g) * 10;
        using var y = m.Jump(x, 10.0, 0.01);
        // Independent route: Heun with 4000 geometric steps on the exact denoiser.
        var grid = new double[4001];
        for (int i = 0; i <= 4000; i++) grid[i] = 10.0 * Math.Pow(0.01 / 10.0, i / 4000.0);
        grid[4000] = 0.01;
        using var heun = HeunSolver.Instance.Solve(m, x, grid);
        TensorAssert.Close(heun, y, 1e-5, 1e-5);
    }

    [Fact]
    public void PerSampleTimes_EqualScalarTimes()
    {
        using var m = Mixture();
        using var g = new Generator(6);
        using var x = randn(8, 2, dtype: ScalarType.Float64, generator: g);
        using var tv = full(8, 4.0, dtype: ScalarType.Float64);
        using var sv = full(8, 0.2, dtype: ScalarType.Float64);
        using var a = m.Jump(x, tv, sv);
        using var b = m.Jump(x, 4.0, 0.2);
        TensorAssert.Close(b, a, 1e-12, 1e-12);
    }

    [Fact]
    public void MixedPerSampleTimes_MatchOneAtATime()
    {
        using var m = Mixture();
        using var g = new Generator(7);
        using var x = randn(3, 2, dtype: ScalarType.Float64, generator: g);
        double[] ts = { 50, 3, 0.5 }, ss = { 0.002, 3, 0.1 };
        using var a = m.Jump(x, tensor(ts, dtype: ScalarType.Float64), tensor(ss, dtype: ScalarType.Float64));
        for (int i = 0; i < 3; i++)
        {
            using var xi = x[i].unsqueeze(0);
            using var bi = m.Jump(xi, ts[i], ss[i]);
            using var ai = a[i].unsqueeze(0);
            // The batch takes its RK4 step count from its widest span, so the solves differ by discretisation
            // error (≈1e-6 at the default 20 steps per unit ln σ); a broadcasting bug would differ by O(1).
            TensorAssert.Close(bi, ai, 1e-5, 1e-6);
        }
    }

    [Fact]
    public void MixtureScore_IsTheGradientOfTheLogDensity()
    {
        using var m = Mixture();
        using var g = new Generator(8);
        using var x0 = randn(32, 2, dtype: ScalarType.Float64, generator: g);
        using var x = x0.detach().requires_grad_(true);
        const double sigma = 0.4;
        using var logp = m.LogDensity(x, sigma).sum();
        var grad = autograd.grad(new[] { logp }, new[] { x })[0];
        using var st = tensor(sigma, dtype: ScalarType.Float64);
        using var score = m.Score(x0, st);
        TensorAssert.Close(grad, score, 1e-8, 1e-10);
    }

    [Fact]
    public void GaussianLogDensity_MatchesTheNormalFormula()
    {
        using var m = new GaussianModel(new[] { 1.0 }, 2.0, dtype: ScalarType.Float64);
        using var x = tensor(new[] { 1.0, 3.0 }, dtype: ScalarType.Float64).reshape(2, 1);
        using var lp = m.LogDensity(x, 1.5);
        double v = 4 + 2.25;
        Assert.Equal(-0.5 * Math.Log(2 * Math.PI * v), lp[0].item<double>(), 12);
        Assert.Equal(-0.5 * Math.Log(2 * Math.PI * v) - 4 / (2 * v), lp[1].item<double>(), 12);
    }

    [Fact]
    public void MixtureSampling_FollowsTheWeightsAndClasses()
    {
        using var m = GaussianMixtureModel.Ring(4, 2.0, 0.05, classPerMode: true, dtype: ScalarType.Float64);
        Assert.Equal(4, m.NumClasses);
        using var g = new Generator(9);
        using var labels = full(2000, 2L, dtype: ScalarType.Int64);
        using var x = m.SampleData(2000, g, labels);
        using var r = m.Responsibilities(x);
        using var mode = r.argmax(1);
        Assert.True(mode.eq(2).all().item<bool>());
    }
}
