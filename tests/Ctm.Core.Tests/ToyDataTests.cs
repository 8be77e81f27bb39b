using System;
using System.Linq;
using Ctm.Samples;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>The 2-D data laws' exact densities integrate to 1 and agree with their own samplers.</summary>
[Collection("Torch")]
public sealed class ToyDataTests
{
    public static TheoryData<string> Laws => new(ToyData.Keys);

    [Theory]
    [MemberData(nameof(Laws))]
    public void DensityIntegratesToOneAndMatchesTheSampler(string key)
    {
        using var scope = NewDisposeScope();
        using var data = ToyData.Create(key);
        Assert.Equal(key, data.Key);
        // Riemann sum over [−1.6, 1.6]² with step 0.008 (every law lies inside, σ ≤ 0.05 of blur).
        const double step = 0.008;
        var axis = arange(-1.6 + step / 2, 1.6, step, dtype: ScalarType.Float64);
        var grid = stack(meshgrid(new[] { axis, axis }, indexing: "ij"), -1).reshape(-1, 2).to_type(ScalarType.Float32);
        var p = data.LogDensity(grid).exp() * (step * step);
        Assert.InRange(p.sum().item<double>(), 0.99, 1.01);

        // The mass of the half-plane x > 0.1 by the density and by 50,000 samples (sd of the share ≤ 0.0023).
        double byDensity = p.masked_select(grid[.., 0].gt(0.1)).sum().item<double>();
        using var g = new Generator(11);
        var x = data.Sample(50_000, g);
        double bySamples = x[.., 0].gt(0.1).to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(bySamples - byDensity, -0.012, 0.012);
        Assert.True(data.LogDensity(x).isfinite().all().item<bool>());
    }

    [Fact]
    public void TheSwissRollHasNoModes()
    {
        using var data = new SwissRollData();
        Assert.Equal(0, data.Modes);
        using var x = zeros(3, 2);
        var e = Assert.Throws<NotSupportedException>(() => data.ModeOf(x));
        Assert.Contains("swiss roll", e.Message);
    }

    [Fact]
    public void EachCircleIsOneMode()
    {
        using var scope = NewDisposeScope();
        using var data = new CirclesData();
        Assert.Equal(2, data.Modes);
        using var g = new Generator(5);
        var x = data.Sample(20_000, g);
        var mode = data.ModeOf(x);
        // Radii 1 and 0.5 with a blur of 0.04: the circle a point came from is the side of radius 0.75 it lies on.
        var outer = x.norm(1).gt(0.75);
        Assert.True(mode.eq(0).eq(outer).all().item<bool>(), "mode 0 is the outer circle, mode 1 the inner one");
        double shareOuter = outer.to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(shareOuter, 0.48, 0.52);   // half the mass on each (sd 0.0035)
    }

    [Fact]
    public void EachMoonIsOneMode()
    {
        using var scope = NewDisposeScope();
        using var data = new MoonsData();
        Assert.Equal(2, data.Modes);
        // The ends and middle of each arc (before the blur) belong to their own moon, the tips that reach into the other
        // moon's hollow (1/3 from the other arc) included.
        var onArcs = tensor(new float[,] { { -1f, -1f / 6 }, { -1f / 3, 0.5f }, { 1f / 3, -1f / 6 }, { 1f, 1f / 6 }, { 1f / 3, -0.5f }, { -1f / 3, 1f / 6 } });
        var mode = data.ModeOf(onArcs);
        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 1 }, mode.data<long>().ToArray());
        using var g = new Generator(6);
        var counts = data.ModeOf(data.Sample(20_000, g)).bincount(null, 2).to_type(ScalarType.Float64) / 20_000;
        Assert.InRange(counts[0].item<double>(), 0.48, 0.52);
    }

    [Fact]
    public void ALawBuiltInsideADisposeScopeOutlivesIt()
    {
        MoonsData data;
        using (NewDisposeScope()) data = new MoonsData();
        using (data)
        using (var x = tensor(new float[,] { { -1f, -1f / 6 }, { 1f, 1f / 6 } }))
        using (var mode = data.ModeOf(x))
            Assert.Equal(new long[] { 0, 1 }, mode.data<long>().ToArray());
    }
}
