using System;
using System.Linq;
using Ctm.Core.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>Networks built with a generator do not depend on TorchSharp's global RNG.</summary>
[Collection("Torch")]
public sealed class DefaultInitTests
{
    private static float[] Weights(Func<Generator, nn.Module> build, ulong seed, long globalSeed)
    {
        torch.manual_seed(globalSeed); // a different global RNG state must not matter
        using var g = new Generator(seed);
        using var m = build(g);
        return m.parameters().Select(p => (Tensor)p).Concat(m.buffers()).SelectMany(p => p.data<float>().ToArray()).ToArray();
    }

    public static TheoryData<string> Networks => new() { "denoiser", "trajectory", "mlp-d", "mlp-d-fourier", "conv-d" };

    private static nn.Module Build(string kind, Generator g) => kind switch
    {
        "denoiser" => new DenoiserMlp(generator: g),
        "trajectory" => new TrajectoryMlp(generator: g),
        "mlp-d" => new MlpDiscriminator(2, generator: g),
        "mlp-d-fourier" => new MlpDiscriminator(2, generator: g, fourierFeatures: 16),
        _ => new ConvDiscriminator(1, 16, 8, generator: g),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void OneSeedGivesOneNetwork(string kind)
    {
        Assert.Equal(Weights(g => Build(kind, g), 3, 1), Weights(g => Build(kind, g), 3, 2));
        Assert.NotEqual(Weights(g => Build(kind, g), 3, 1), Weights(g => Build(kind, g), 4, 1));
    }

    [Fact]
    public void DrawsStayInsidePyTorchsDefaultBound()
    {
        using var g = new Generator(5);
        using var lin = nn.Linear(64, 8);
        DefaultInit.Redraw(lin, g);
        double bound = 1 / Math.Sqrt(64);
        Assert.True(lin.weight.abs().max().item<float>() <= bound);
        Assert.True(lin.weight.abs().max().item<float>() > 0.9 * bound); // the whole range is used, not a smaller one
        Assert.True(lin.bias!.abs().max().item<float>() <= bound);
    }
}
