using System;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Networks;
using Ctm.Core.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>The vector discriminator with and without random Fourier features of its input.</summary>
[Collection("Torch")]
public sealed class MlpDiscriminatorTests
{
    [Fact]
    public void FourierMatrix_IsABufferSavedWithTheWeights()
    {
        using var g = new Generator(1);
        using var d = new MlpDiscriminator(2, 16, 2, generator: g, fourierFeatures: 8, fourierScale: 2.0);
        var (name, b) = Assert.Single(d.named_buffers());
        Assert.Equal(new long[] { 2, 8 }, b.shape);
        Assert.Equal(2.0, b.std().item<float>(), 0.8);
        // the first layer sees [x, sin, cos]: D + 2F inputs
        Assert.Equal(2 + 2 * 8, d.parameters().First().shape[1]);

        using var x = randn(32, 2, generator: g);
        using var before = d.call(x);
        using var other = new MlpDiscriminator(2, 16, 2, generator: new Generator(2), fourierFeatures: 8, fourierScale: 2.0);
        var sd = d.state_dict();
        Assert.Contains(name, sd.Keys);
        other.load_state_dict(sd);
        using var after = other.call(x);
        Assert.Equal(before.data<float>().ToArray(), after.data<float>().ToArray());
    }

    [Fact]
    public void WithoutFourierFeatures_TheInputIsTheRawVector()
    {
        using var d = new MlpDiscriminator(3, 16, 2, generator: new Generator(1));
        Assert.Empty(d.named_buffers());
        Assert.Equal(3, d.parameters().First().shape[1]);
        using var y = d.call(randn(5, 3));
        Assert.Equal(new long[] { 5 }, y.shape);
    }

    [Fact]
    public void ConvertedToFloat64_ItsFourierMatrixFollows()
    {
        using var d = new MlpDiscriminator(2, 16, 2, generator: new Generator(1), fourierFeatures: 4);
        using var x = randn(6, 2, generator: new Generator(3));
        using var y32 = d.call(x);
        d.to(ScalarType.Float64);
        Assert.All(d.buffers(), b => Assert.Equal(ScalarType.Float64, b.dtype));
        using var y64 = d.call(x.to_type(ScalarType.Float64));
        Assert.Equal(ScalarType.Float64, y64.dtype);
        Assert.True(y64.to_type(ScalarType.Float32).allclose(y32, rtol: 1e-4, atol: 1e-5));
    }

    [Theory]
    [InlineData(-1, 1.0, "fourierFeatures")]
    [InlineData(4, 0.0, "fourierScale")]
    [InlineData(4, double.NaN, "fourierScale")]
    public void BadFourierSettings_AreNamed(int features, double scale, string param)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new MlpDiscriminator(2, 8, 1, fourierFeatures: features, fourierScale: scale));
        Assert.Equal(param, e.ParamName);
    }

    /// <summary>The case the Fourier features are for: fakes of which 30 % lie on the segments between the eight modes of
    /// a ring (std 0.05). After 600 hinge-loss steps the discriminator scores the bridge points well below the fakes on
    /// the modes.</summary>
    [Fact]
    public void WithFourierFeatures_ItSeesSamplesBetweenModes()
    {
        using var scope = NewDisposeScope();
        using var ring = GaussianMixtureModel.Ring(8, 1.0, 0.05, dtype: ScalarType.Float32);
        using var g = new Generator(11);
        const int n = 4000, bridges = 1200;
        var real = ring.SampleData(n, g);
        // bridge points: uniform on the chord between mode i and mode i + 1
        var i = randint(0, 8, new long[] { bridges }, generator: g).to_type(ScalarType.Float32);
        var u = rand(new long[] { bridges, 1 }, generator: g);
        var a = stack(new[] { (i * Math.PI / 4).cos(), (i * Math.PI / 4).sin() }, 1);
        var b = stack(new[] { ((i + 1) * Math.PI / 4).cos(), ((i + 1) * Math.PI / 4).sin() }, 1);
        var onBridge = a + u * (b - a);
        var fake = cat(new[] { ring.SampleData(n - bridges, g), onBridge }, 0);

        using var d = new MlpDiscriminator(2, 128, 3, generator: new Generator(1), fourierFeatures: 64, fourierScale: 1.0);
        using var opt = new RectifiedAdam(d.parameters(), 2e-3, beta1: 0.5, beta2: 0.9);
        for (int step = 0; step < 600; step++)
        {
            using var s = NewDisposeScope();
            opt.ZeroGrad();
            var loss = nn.functional.relu(1 - d.call(real.index_select(0, randint(0, n, new long[] { 256 }, generator: g)))).mean()
                + nn.functional.relu(1 + d.call(fake.index_select(0, randint(0, n, new long[] { 256 }, generator: g)))).mean();
            loss.backward();
            opt.Step();
        }
        using var noGrad = no_grad();
        var logits = d.call(fake);
        double onModes = logits[..(n - bridges)].mean().item<float>(), between = logits[(n - bridges)..].mean().item<float>();
        Assert.True(between < onModes - 0.5, $"bridge fakes {between:F3}, fakes on the modes {onModes:F3}");
    }
}
