using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using TorchSharp;
using Xunit;

namespace Ctm.Core.Tests;

/// <summary>The README's usage snippet, compiled and run as written.</summary>
[Collection("Torch")]
public class ReadmeExampleTests
{
    [Fact]
    public void ReadmeSamplingSnippet_Runs()
    {
        using var network = new TrajectoryMlp(new MlpOptions { Dimension = 2 });
        var model   = new CtmTrajectoryModel(network);
        var sampler = new GammaSampler(model, sampleShape: new long[] { 2 });

        using var generator = new torch.Generator(seed: 42);
        using var x  = sampler.Sample(n: 1000, gamma: 0.0, steps: 1, generator: generator);
        using var x4 = sampler.Sample(1000, gamma: 0.3, steps: 4, generator: generator);
        using var xOde = new DiffusionSampler(model, new long[] { 2 }).Sample(1000, 18, generator: generator);
        using var xs = model.Jump(x, t: 80.0, s: 1.0);

        Assert.Equal(new long[] { 1000, 2 }, x.shape);
        Assert.Equal(new long[] { 1000, 2 }, x4.shape);
        Assert.Equal(new long[] { 1000, 2 }, xOde.shape);
        Assert.Equal(new long[] { 1000, 2 }, xs.shape);
        Assert.True(x.isfinite().all().item<bool>());
    }
}
