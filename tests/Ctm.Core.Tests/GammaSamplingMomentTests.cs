using System;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Diagnostics;
using Ctm.Core.Sampling;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// With the exact G*, γ-sampling must reproduce the data law for every γ and NFE: moments (and mixture mode weights)
/// within 3 standard errors on 20,000 samples.
/// </summary>
[Collection("Torch")]
public class GammaSamplingMomentTests
{
    private const int N = 20_000;
    private readonly ITestOutputHelper _out;
    public GammaSamplingMomentTests(ITestOutputHelper output) => _out = output;

    public static TheoryData<double, int> Cases()
    {
        var data = new TheoryData<double, int>();
        foreach (var gamma in new[] { 0.0, 0.3, 0.7, 1.0 })
            foreach (var nfe in new[] { 1, 2, 4, 8 })
                data.Add(gamma, nfe);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gaussian_MomentsMatch(double gamma, int nfe)
    {
        using var m = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, dtype: ScalarType.Float64);
        var sampler = new GammaSampler(m, new long[] { 2 });
        using var gen = new Generator(Seed(1, gamma, nfe));
        using var x = sampler.Sample(N, gamma, nfe, generator: gen);
        double var = 0.25 + m.SigmaMin * m.SigmaMin; // samples land at σ_min
        var z = MomentZScores(x, m.Mean, Enumerable.Repeat(var, 2).ToArray());
        _out.WriteLine($"γ={gamma} NFE={nfe}: z = {string.Join(", ", z.Select(v => v.ToString("F2")))}");
        Assert.All(z, v => Assert.InRange(Math.Abs(v), 0, 3));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Mixture_MomentsAndModeWeightsMatch(double gamma, int nfe)
    {
        using var m = TestMixture();
        var sampler = new GammaSampler(m, new long[] { 2 });
        using var gen = new Generator(Seed(2, gamma, nfe));
        using var x = sampler.Sample(N, gamma, nfe, generator: gen);
        double s2 = m.SigmaMin * m.SigmaMin;
        var mean = new double[2];
        var var = new double[2];
        for (int d = 0; d < 2; d++)
        {
            mean[d] = Enumerable.Range(0, 3).Sum(k => m.Weights[k] * m.Means[k][d]);
            var[d] = Enumerable.Range(0, 3).Sum(k => m.Weights[k] * (m.Stds[k] * m.Stds[k] + m.Means[k][d] * m.Means[k][d])) - mean[d] * mean[d] + s2;
        }
        var z = MomentZScores(x, mean, var).ToList();
        using var r = m.Responsibilities(x);
        using var mode = r.argmax(1);
        z.AddRange(MomentCheck.ProportionZScores(mode, m.Weights));
        _out.WriteLine($"γ={gamma} NFE={nfe}: z = {string.Join(", ", z.Select(v => v.ToString("F2")))}");
        Assert.All(z, v => Assert.InRange(Math.Abs(v), 0, 3));
    }

    [Fact]
    public void MomentCheck_HasPower_ItRejectsAFourPercentVarianceError()
    {
        // Samples from σ_0 = 0.51 judged against σ_0 = 0.5: the check must flag it, or it proves nothing.
        using var wrong = new GaussianModel(new[] { 0.5, -0.25 }, 0.51, dtype: ScalarType.Float64);
        var sampler = new GammaSampler(wrong, new long[] { 2 });
        using var gen = new Generator(7);
        using var x = sampler.Sample(N, 0.0, 1, generator: gen);
        var z = MomentZScores(x, wrong.Mean, new[] { 0.25, 0.25 });
        Assert.Contains(z, v => Math.Abs(v) > 3);
    }

    /// <summary>Distinct seed per (model, γ, NFE).</summary>
    private static ulong Seed(int model, double gamma, int nfe) => (ulong)(model * 100_000 + nfe * 100 + (int)Math.Round(gamma * 10));

    internal static GaussianMixtureModel TestMixture() => new(
        new[] { 0.5, 0.3, 0.2 },
        new[] { new[] { -1.0, 0.0 }, new[] { 1.0, 0.5 }, new[] { 0.2, -1.2 } },
        new[] { 0.1, 0.3, 0.05 }, dtype: ScalarType.Float64, stepsPerUnitLogSigma: 10);

    internal static double[] MomentZScores(Tensor x, double[] mean, double[] variance) => MomentCheck.ZScores(x, mean, variance);
}
