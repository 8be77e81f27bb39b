using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using CsCheck;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests.Robustness;

/// <summary>
/// Property-based tests (CsCheck): invariants of the jump G(x, t, s) and of the samplers over random times, batches,
/// γ, step counts and seeds. A failure prints the shrunk counterexample and the seed to replay it.
/// </summary>
[Collection("Torch")]
public class SamplerPropertyTests : IDisposable
{
    private const int Iterations = 40;
    private readonly GaussianModel _gauss = new(new[] { 0.3, -0.2 }, 0.5, dtype: ScalarType.Float64);
    private readonly TrajectoryMlp _net;
    private readonly CtmTrajectoryModel _mlp;

    public SamplerPropertyTests()
    {
        using var g = new Generator(5);
        _net = new TrajectoryMlp(RobustnessFixtures.Net(16), generator: g);
        _mlp = new CtmTrajectoryModel(_net);
    }

    public void Dispose()
    {
        _gauss.Dispose();
        _net.Dispose();
    }

    private static readonly Gen<double> Time = Gen.Double[Math.Log(0.002), Math.Log(80)].Select(Math.Exp);

    /// <summary>t ≥ u ≥ s, all in [σ_min, σ_max].</summary>
    private static readonly Gen<(double T, double U, double S)> Times = Gen.Select(Time, Time, Time)
        .Select(v => { var a = new[] { v.Item1, v.Item2, v.Item3 }.OrderDescending().ToArray(); return (a[0], a[1], a[2]); });

    private static Tensor Points(Generator g, int n, ScalarType dtype) => (randn(new long[] { n, 2 }, generator: g) * 3).to_type(dtype);

    [Fact]
    public void Jump_ToTheSameTime_IsTheIdentity_AndKeepsShapeDtypeAndFiniteness()
    {
        Gen.Select(Time, Gen.Int[1, 6], Gen.UInt).Sample((t, n, seed) =>
        {
            using var scope = NewDisposeScope();
            using var g = new Generator(seed);
            foreach (var (model, dtype) in new (ITrajectoryModel, ScalarType)[] { (_mlp, ScalarType.Float32), (_gauss, ScalarType.Float64) })
            {
                var x = Points(g, n, dtype);
                var y = model.Jump(x, t, t);
                Assert.Equal(x.shape, y.shape);
                Assert.Equal(dtype, y.dtype);
                Assert.True(y.isfinite().all().item<bool>());
                Assert.True(y.allclose(x, rtol: 1e-5, atol: 1e-5), $"G(x, {t}, {t}) ≠ x");
            }
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void Jump_OfAnExactModel_ComposesAlongTheTrajectory()
    {
        // G(G(x, t, u), u, s) = G(x, t, s): the exact flow of the Gaussian's PF-ODE is a semigroup.
        Gen.Select(Times, Gen.Int[1, 5], Gen.UInt).Sample((times, n, seed) =>
        {
            using var scope = NewDisposeScope();
            using var g = new Generator(seed);
            var x = Points(g, n, ScalarType.Float64) * times.T / 3;
            var twoJumps = _gauss.Jump(_gauss.Jump(x, times.T, times.U), times.U, times.S);
            var oneJump = _gauss.Jump(x, times.T, times.S);
            Assert.True(twoJumps.allclose(oneJump, rtol: 1e-6, atol: 1e-6), $"t {times.T}, u {times.U}, s {times.S}");
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void Jump_TreatsSamplesIndependently()
    {
        // Row i of G(batch) equals G(row i): no sample leaks into another, whatever the batch size and times.
        Gen.Select(Times, Gen.Int[2, 6], Gen.UInt).Sample((times, n, seed) =>
        {
            using var scope = NewDisposeScope();
            using var g = new Generator(seed);
            var x = Points(g, n, ScalarType.Float32);
            var all = _mlp.Jump(x, times.T, times.S);
            for (int i = 0; i < n; i++)
                Assert.True(all[i].unsqueeze(0).allclose(_mlp.Jump(x[i].unsqueeze(0), times.T, times.S), rtol: 1e-4, atol: 1e-5));
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void GammaSampler_IsFiniteShapedAndReproducible_AndDeterministicAtGammaZero()
    {
        var sampler = new GammaSampler(_mlp, new long[] { 2 });
        Gen.Select(Gen.Int[1, 5], Gen.Int[1, 4], Gen.Double[0, 1], Gen.UInt).Sample((n, steps, gamma, seed) =>
        {
            using var scope = NewDisposeScope();
            using var g1 = new Generator(seed);
            using var g2 = new Generator(seed);
            var a = sampler.Sample(n, gamma, steps, generator: g1);
            var b = sampler.Sample(n, gamma, steps, generator: g2);
            Assert.Equal(new long[] { n, 2 }, a.shape);
            Assert.True(a.isfinite().all().item<bool>());
            Assert.True(a.equal(b).all().item<bool>(), "same seed, different samples");
            // γ = 0 from a given x_T uses no randomness: two different generators agree.
            var xT = a * 0 + 80;
            using var g3 = new Generator(seed + 1UL);
            Assert.True(sampler.Sample(xT, 0.0, steps, generator: g1).equal(sampler.Sample(xT, 0.0, steps, generator: g3)).all().item<bool>());
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void DiffusionSampler_ReportsItsNfe_AndStaysFinite()
    {
        var sampler = new DiffusionSampler(_mlp, new long[] { 2 });
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 6], Gen.UInt).Sample((n, steps, seed) =>
        {
            using var scope = NewDisposeScope();
            using var g = new Generator(seed);
            var reports = new List<SamplingProgress>();
            var x = sampler.Sample(n, steps, generator: g, progress: new SyncProgress(reports.Add));
            Assert.Equal(new long[] { n, 2 }, x.shape);
            Assert.True(x.isfinite().all().item<bool>());
            Assert.Equal(steps, reports.Count);
            Assert.Equal(2 * steps - 1, reports[^1].Evaluations);   // Heun on EDM's grid: the last step (to 0) is Euler
        }, iter: Iterations, threads: 1);
    }

    private sealed class SyncProgress(Action<SamplingProgress> report) : IProgress<SamplingProgress>
    {
        public void Report(SamplingProgress value) => report(value);
    }
}
