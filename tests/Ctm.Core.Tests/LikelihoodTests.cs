using System;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Likelihood;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>DOPRI5 and the probability-flow likelihood against closed forms.</summary>
[Collection("Torch")]
public sealed class LikelihoodTests
{
    private readonly ITestOutputHelper _out;
    public LikelihoodTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void DormandPrinceSolvesLinearOdeToTolerance()
    {
        using var y0 = tensor(new[] { 1.0, -2.0, 0.5 }, ScalarType.Float64).reshape(1, 3);
        var (y, stats) = DormandPrince45.Integrate((t, y) => -y * Math.Cos(t), y0, 0, 5,
            new OdeTolerances { RelativeTolerance = 1e-9, AbsoluteTolerance = 1e-12 });
        using (y)
        using (var exact = y0 * Math.Exp(-Math.Sin(5)))
        {
            double err = (y - exact).abs().max().item<double>();
            _out.WriteLine($"y' = −cos(t)·y on [0, 5]: max error {err:E2}, {stats}");
            Assert.True(err < 1e-8, $"error {err:E2}");
        }
        // Looser tolerances take fewer steps (the controller adapts).
        var (_, loose) = DormandPrince45.Integrate((t, y) => -y * Math.Cos(t), y0, 0, 5, new OdeTolerances { RelativeTolerance = 1e-3, AbsoluteTolerance = 1e-6 });
        Assert.True(loose.AcceptedSteps < stats.AcceptedSteps, $"{loose} vs {stats}");
    }

    [Fact]
    public void GaussianNllMatchesClosedFormWithin0005NatsPerDim()
    {
        const int dims = 4;
        using var model = new GaussianModel(new double[dims], 0.5, dtype: ScalarType.Float64);
        using var g = new Generator(11);
        using var x = model.SampleData(32, g);
        using var result = ProbabilityFlowLikelihood.LogLikelihood(model, x);
        using var exact = model.LogDensity(x, model.SigmaMin);
        using var exactData = model.LogDensity(x);
        double perDim = (result.LogLikelihood - exact).abs().max().item<double>() / dims;
        double meanNll = -result.LogLikelihood.mean().item<double>() / dims, exactNll = -exactData.mean().item<double>() / dims;
        _out.WriteLine($"N(0, 0.25 I), D = {dims}: max |Δ log p|/D = {perDim:E2} nats/dim; NLL {meanNll:F5} vs data density {exactNll:F5} nats/dim; {result.Stats}");
        Assert.True(perDim <= 0.005, $"{perDim:E2} nats/dim");
        Assert.True(Math.Abs(meanNll - exactNll) <= 0.005);
    }

    [Fact]
    public void MixtureNllMatchesTrueDensityWithin001Nats()
    {
        using var model = GaussianMixtureModel.Ring(dtype: ScalarType.Float64);
        using var g = new Generator(12);
        using var x = model.SampleData(24, g);
        using var result = ProbabilityFlowLikelihood.LogLikelihood(model, x);
        using var exact = model.LogDensity(x, model.SigmaMin);
        double maxErr = (result.LogLikelihood - exact).abs().max().item<double>();
        _out.WriteLine($"8-mode ring: max |Δ log p| = {maxErr:E2} nats (mean log p {result.LogLikelihood.mean().item<double>():F4} vs {exact.mean().item<double>():F4}); {result.Stats}");
        Assert.True(maxErr <= 0.01, $"{maxErr:E2} nats");
    }

    [Fact]
    public void HutchinsonAgreesWithExactDivergenceWithinItsStandardError()
    {
        using var model = GaussianMixtureModel.Ring(dtype: ScalarType.Float64);
        using var g = new Generator(13);
        using var x = model.SampleData(16, g);
        var loose = new LikelihoodOptions { Tolerances = new OdeTolerances { RelativeTolerance = 1e-4, AbsoluteTolerance = 1e-4 } };
        using var exact = ProbabilityFlowLikelihood.LogLikelihood(model, x, loose);
        const int runs = 12;
        var means = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            using var gr = new Generator(100 + (ulong)r);
            using var h = ProbabilityFlowLikelihood.LogLikelihood(model, x, loose with { Divergence = DivergenceMethod.Hutchinson }, generator: gr);
            means[r] = h.LogLikelihood.mean().item<double>();
        }
        double mean = means.Average(), se = Math.Sqrt(means.Select(m => (m - mean) * (m - mean)).Sum() / (runs - 1) / runs);
        double truth = exact.LogLikelihood.mean().item<double>();
        _out.WriteLine($"Hutchinson mean log p {mean:F4} ± {se:F4} (SE, {runs} runs) vs exact {truth:F4}: |Δ| = {Math.Abs(mean - truth) / se:F2} SE");
        Assert.True(se > 1e-4, "Hutchinson's estimate did not vary between ε draws; the estimator is not being exercised.");
        Assert.True(Math.Abs(mean - truth) <= 3 * se, $"|Δ| = {Math.Abs(mean - truth):F4} > 3 SE = {3 * se:F4}");
    }

    [Fact]
    public void ChunkedExactDivergenceEqualsThePerDimensionTrace()
    {
        // A nonlinear network with D = 40 and B = 8: the chunked exact divergence takes 16 copies per pass (3 passes, the
        // last one short). Reference: the trace as D separate vector–Jacobian products of the drift x − D(x, σ).
        const int D = 40, B = 8;
        using var gInit = new Generator(21);
        using var net = new Ctm.Core.Networks.TrajectoryMlp(new Ctm.Core.Networks.MlpOptions { Dimension = D, Hidden = 32, Blocks = 1 }, generator: gInit);
        var model = new Ctm.Core.Models.CtmTrajectoryModel(net);
        using var g = new Generator(22);
        using var xFlat = randn(new long[] { B, D }, generator: g);
        const double sigma = 0.7;
        Assert.True(ProbabilityFlowLikelihood.ExactRowsPerPass / B < D, "the case must need more than one pass");

        using var chunked = ProbabilityFlowLikelihood.ExactDrift(model, xFlat, sigma, new long[] { B, D }, ScalarType.Float32, null);
        using var grad = enable_grad();
        using var xi = xFlat.clone().requires_grad_(true);
        using var flat = xi - model.Denoise(xi, sigma);
        var trace = zeros(B, ScalarType.Float64);
        for (int i = 0; i < D; i++)
        {
            using var gi = autograd.grad(new[] { flat.select(1, i).sum() }, new[] { xi }, retain_graph: true)[0];
            var next = trace + gi.select(1, i).to(ScalarType.Float64);
            trace.Dispose();
            trace = next;
        }
        using var expectedDrift = flat.detach().to(ScalarType.Float64);
        double divError = (chunked.select(1, D) - trace).abs().max().item<double>();
        double driftError = (chunked.narrow(1, 0, D) - expectedDrift).abs().max().item<double>();
        _out.WriteLine($"max |Δ div| {divError:E2} (|div| ~ {trace.abs().mean().item<double>():F3}), max |Δ drift| {driftError:E2}");
        Assert.True(trace.abs().mean().item<double>() > 1e-3, "the divergence should not vanish for a random network");
        Assert.True(divError < 1e-4, $"chunked exact divergence differs by {divError:E2}");
        Assert.True(driftError < 1e-5, $"drift differs by {driftError:E2}");
        trace.Dispose();
    }

    [Fact]
    public void BitsPerDimOfTheUniformModelIsEight()
    {
        // A model uniform on [−1, 1]^D has log p = −D ln 2: it spends exactly 8 bits per 8-bit pixel.
        Assert.Equal(8.0, BitsPerDim.FromLogLikelihood(-3072 * Math.Log(2), 3072), 12);
        using var g = new Generator(1);
        using var k = tensor(new float[] { 0, 255, 128 });
        using var x = BitsPerDim.Dequantize(k, g);
        var v = x.data<float>().ToArray();
        Assert.InRange(v[0], -1f, -1f + 2f / 256);
        Assert.InRange(v[1], 1f - 2f / 256, 1f);
        Assert.Throws<ArgumentException>(() => BitsPerDim.Dequantize(tensor(new float[] { 300 }), g));
    }
}
