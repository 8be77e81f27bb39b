using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Sampling;
using Ctm.Core.Schedules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

[Collection("Torch")]
public class SamplerBehaviourTests
{
    [Fact]
    public void SameGenerator_SameSamples_AndGlobalRngIsUntouched()
    {
        using var m = GammaSamplingMomentTests.TestMixture();
        var sampler = new GammaSampler(m, new long[] { 2 });
        torch.manual_seed(5);
        using var before = torch.rand(3, dtype: ScalarType.Float64);
        using var g1 = new Generator(42);
        using var a = sampler.Sample(64, 0.5, 3, generator: g1);
        torch.manual_seed(5);
        using var g2 = new Generator(42);
        using var b = sampler.Sample(64, 0.5, 3, generator: g2);
        using var after = torch.rand(3, dtype: ScalarType.Float64);
        TensorAssert.Close(a, b, 0, 0);
        TensorAssert.Close(before, after, 0, 0); // the sampler drew nothing from the global RNG
    }

    [Fact]
    public void GammaZero_IsDeterministicGivenXT_AndReportsEachJump()
    {
        using var m = new GaussianModel(new[] { 0.0, 1.0 }, 0.5, dtype: ScalarType.Float64);
        var sampler = new GammaSampler(m, new long[] { 2 });
        using var g = new Generator(1);
        using var xT = randn(new long[] { 16, 2 }, dtype: ScalarType.Float64, generator: g) * 80;
        var reports = new List<SamplingProgress>();
        using var a = sampler.Sample(xT, 0.0, 4, progress: new SyncProgress<SamplingProgress>(reports.Add));
        using var b = sampler.Sample(xT, 0.0, 4);
        TensorAssert.Close(a, b, 0, 0);
        Assert.Equal(4, reports.Count);
        Assert.Equal(KarrasSchedule.SamplingGrid(4)[..4], reports.Select(r => r.T).ToArray());
        // With the exact G*, γ = 0 is the exact flow: one jump equals four.
        using var one = sampler.Sample(xT, 0.0, 1);
        TensorAssert.Close(one, a, 1e-10, 1e-10);
    }

    [Fact]
    public void ClampOutput_ClampsTheFinalSamples()
    {
        using var m = new GaussianModel(new[] { 0.0 }, 3.0, dtype: ScalarType.Float64);
        var sampler = new GammaSampler(m, new long[] { 1 }, clampOutput: (-1, 1));
        using var g = new Generator(2);
        using var x = sampler.Sample(500, 0.0, 2, generator: g);
        Assert.True(TensorAssert.Max(x.abs()) <= 1.0);
    }

    [Fact]
    public void DiffusionSampler_WithExactDenoiser_FollowsTheExactFlow()
    {
        // Heun on a fine grid converges to G*(x_T, σ_max, σ_min); the moments then match the data law.
        using var m = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, dtype: ScalarType.Float64);
        var sampler = new DiffusionSampler(m, new long[] { 2 });
        using var g = new Generator(3);
        using var xT = randn(new long[] { 20_000, 2 }, dtype: ScalarType.Float64, generator: g) * 80;
        using var x = sampler.Sample(xT, KarrasSchedule.Sigmas(257));
        using var exact = m.Jump(xT, 80.0, 0.002);
        Assert.True(TensorAssert.Max((x - exact).abs()) < 1e-3);
        var z = GammaSamplingMomentTests.MomentZScores(x, m.Mean, new[] { 0.25, 0.25 });
        Assert.All(z, v => Assert.InRange(Math.Abs(v), 0, 3));
    }

    [Fact]
    public void DiffusionSampler_EdmGrid18_Uses35Evaluations()
    {
        using var m = new GaussianModel(new[] { 0.0 }, 0.5, dtype: ScalarType.Float64);
        var counter = new CountingDenoiser(m);
        var sampler = new DiffusionSampler(counter, new long[] { 1 });   // construction probes the shape once
        int probe = counter.Calls;
        using var g = new Generator(4);
        var reports = new List<SamplingProgress>();
        using var x = sampler.Sample(10, 18, generator: g, progress: new SyncProgress<SamplingProgress>(reports.Add));
        Assert.Equal(35, counter.Calls - probe);
        Assert.Equal(18, reports.Count);          // steps = solver steps
        Assert.Equal(35, reports[^1].Evaluations);

        // One step is a single Euler step from σ_max to 0: NFE 1.
        int before = counter.Calls;
        using var one = sampler.Sample(10, 1, generator: g);
        Assert.Equal(1, counter.Calls - before);
    }

    [Fact]
    public void ClassConditionalSampling_LandsInTheRequestedClass()
    {
        using var m = GaussianMixtureModel.Ring(4, 1.0, 0.05, classPerMode: true, dtype: ScalarType.Float64);
        var sampler = new GammaSampler(m, new long[] { 2 });
        using var g = new Generator(4);
        using var labels = full(1000, 3L, dtype: ScalarType.Int64);
        using var x = sampler.Sample(1000, 0.0, 2, labels, g);
        using var mode = m.Responsibilities(x).argmax(1);
        Assert.True(mode.eq(3).to_type(ScalarType.Float64).mean().item<double>() >= 0.99);
    }
}
