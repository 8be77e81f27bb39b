using System.Linq;
using Ctm.Core.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// The vector networks evaluate their time branches once per distinct time and gather the rows (DistinctTimes): outputs
/// and parameter gradients equal the per-sample computation.
/// </summary>
[Collection("Torch")]
public sealed class DistinctTimesTests
{
    private static readonly MlpOptions Options = new() { Dimension = 2, Hidden = 32, Blocks = 2 };

    /// <summary>Times drawn from a 4-value grid, so rows repeat (the deduplicated path).</summary>
    private static (Tensor X, Tensor T, Tensor S) Batch(Generator g)
    {
        var x = randn(new long[] { 24, 2 }, generator: g);
        var grid = tensor(new float[] { -1.2f, -0.3f, 0.4f, 0.9f });
        var t = grid.index_select(0, randint(0, 4, new long[] { 24 }, generator: g));
        var s = grid.index_select(0, randint(0, 4, new long[] { 24 }, generator: g));
        return (x, t, s);
    }

    [Fact]
    public void SplitsRepeatedTimesAndKeepsDistinctOnesWhole()
    {
        using var scope = NewDisposeScope();
        var repeated = DistinctTimes.Of(tensor(new float[] { 0.5f, 0.1f, 0.5f, 0.1f, 0.5f }));
        Assert.Equal(2, repeated.Values.shape[0]);
        Assert.Equal(new float[] { 0.5f, 0.1f, 0.5f, 0.1f, 0.5f }, repeated.PerSample(repeated.Values).data<float>().ToArray());
        var distinct = DistinctTimes.Of(tensor(new float[] { 0.5f, 0.1f, 0.3f }));
        Assert.Null(distinct.Inverse);
        Assert.Equal(3, distinct.Values.shape[0]);
        var needsGrad = DistinctTimes.Of(tensor(new float[] { 0.5f, 0.5f }).requires_grad_());
        Assert.Null(needsGrad.Inverse);
    }

    [Fact]
    public void TrajectoryMlpMatchesRowByRowWithGradients()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var net = new TrajectoryMlp(Options, generator: g);
        var (x, t, s) = Batch(g);

        var grouped = net.call(x, t, s);
        // A time that needs a gradient is never deduplicated: the per-sample reference on the same network.
        var perSample = net.call(x, t.clone().requires_grad_(), s.clone().requires_grad_());
        TensorAssert.Close(perSample.detach(), grouped.detach(), 1e-6, 1e-5);
        var rowByRow = cat(Enumerable.Range(0, 24).Select(i => net.call(x[i..(i + 1)], t[i..(i + 1)], s[i..(i + 1)])).ToArray());
        TensorAssert.Close(rowByRow.detach(), grouped.detach(), 1e-6, 1e-5);

        var gradGrouped = Gradients(net, grouped);
        var gradPerSample = Gradients(net, perSample);
        foreach (var (a, b) in gradGrouped.Zip(gradPerSample)) TensorAssert.Close(b, a, 1e-5, 1e-4);
    }

    [Fact]
    public void DenoiserMlpMatchesPerSample()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        var net = new DenoiserMlp(Options, generator: g);
        var (x, t, _) = Batch(g);
        var grouped = net.call(x, t);
        var perSample = net.call(x, t.clone().requires_grad_());
        TensorAssert.Close(perSample.detach(), grouped.detach(), 1e-6, 1e-5);
        foreach (var (a, b) in Gradients(net, grouped).Zip(Gradients(net, perSample))) TensorAssert.Close(b, a, 1e-5, 1e-4);
    }

    [Fact]
    public void OneSharedTimeInFloat64MatchesPerSample()
    {
        // A sampler's step: every sample at the same time, here in float64 and with times shaped [B, 1].
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        var net = new TrajectoryMlp(Options, generator: g).to(ScalarType.Float64);
        var x = randn(new long[] { 16, 2 }, dtype: ScalarType.Float64, generator: g);
        var t = full(new long[] { 16, 1 }, 0.7, dtype: ScalarType.Float64);
        var s = full(new long[] { 16, 1 }, -0.4, dtype: ScalarType.Float64);
        Assert.Equal(1, DistinctTimes.Of(t).Values.shape[0]);
        var shared = net.call(x, t, s);
        var perSample = net.call(x, t.clone().requires_grad_(), s.clone().requires_grad_());
        TensorAssert.Close(perSample.detach(), shared.detach(), 1e-12, 1e-12);
    }

    private static Tensor[] Gradients(nn.Module net, Tensor output)
    {
        net.zero_grad();
        output.square().sum().backward();
        return net.parameters().Select(p => p.grad!.clone()).ToArray();
    }
}
