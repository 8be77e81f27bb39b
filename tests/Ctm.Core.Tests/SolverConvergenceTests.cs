using System;
using Ctm.Core.Analytic;
using Ctm.Core.Diagnostics;
using Ctm.Core.Schedules;
using Ctm.Core.Solvers;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>Global error of Euler and Heun against the exact Gaussian trajectory, as the Karras grid doubles.</summary>
[Collection("Torch")]
public class SolverConvergenceTests
{
    private readonly ITestOutputHelper _out;
    public SolverConvergenceTests(ITestOutputHelper output) => _out = output;

    /// <summary>Observed orders for n = 64, 128, 256, 512 steps from σ_max = 80 to σ_min on N([0.5, −0.25], 0.25·I).</summary>
    public static double[] ObservedOrders(IOdeSolver solver, out double[] errors)
    {
        using var m = new GaussianModel(new[] { 0.5, -0.25 }, 0.5, dtype: ScalarType.Float64);
        var r = ConvergenceStudy.Run(solver, m, new[] { 64, 128, 256, 512 });
        errors = r.Errors;
        return r.Orders;
    }

    [Fact]
    public void TrainingHeunStep_EqualsTheCheckedStep()
    {
        // The CTM loss's teacher segment uses the fused, unchecked step: per-sample times on a Karras grid, a mixture
        // (nonlinear denoiser), float64 so only rounding order can differ.
        using var m = GaussianMixtureModel.Ring(dtype: ScalarType.Float64);
        var grid = KarrasSchedule.Sigmas(17, m.SigmaMin, m.SigmaMax, m.Rho);
        using var g = new Generator(31);
        using var idx = randint(0, 16, new long[] { 64 }, generator: g);
        using var gridT = tensor(grid, dtype: ScalarType.Float64);
        using var tCur = gridT.index_select(0, idx);
        using var tNext = gridT.index_select(0, idx + 1);
        using var x = randn(new long[] { 64, 2 }, dtype: ScalarType.Float64, generator: g) * tCur.unsqueeze(1);
        using var noGrad = no_grad();
        using var reference = HeunSolver.Instance.Step(m, x, tCur, tNext);
        using var fused = HeunSolver.StepPositiveNoGrad(m, x, tCur, tNext, null);
        double err = (fused - reference).abs().max().item<double>();
        _out.WriteLine($"max |fused − checked| = {err:E2}; the step moves x by {(reference - x).abs().max().item<double>():F3}");
        Assert.True((reference - x).abs().max().item<double>() > 1e-3, "the step should move x");
        Assert.True(err < 1e-12, $"fused Heun step differs by {err:E2}");
    }

    [Fact]
    public void Heun_GlobalErrorHasOrderTwo()
    {
        var orders = ObservedOrders(HeunSolver.Instance, out var errors);
        _out.WriteLine($"Heun errors {string.Join(", ", errors)}; orders {string.Join(", ", orders)}");
        Assert.InRange(orders[^1], 1.8, 2.2);
    }

    [Fact]
    public void Euler_GlobalErrorHasOrderOne()
    {
        var orders = ObservedOrders(EulerSolver.Instance, out var errors);
        _out.WriteLine($"Euler errors {string.Join(", ", errors)}; orders {string.Join(", ", orders)}");
        Assert.InRange(orders[^1], 0.9, 1.1);
    }

    [Fact]
    public void Heun_LastStepToZeroIsEuler_AndCountsEvaluations()
    {
        using var m = new GaussianModel(new[] { 0.0 }, 1.0, dtype: ScalarType.Float64);
        var counter = new CountingDenoiser(m);
        using var x = ones(4, 1, dtype: ScalarType.Float64);
        var reports = new System.Collections.Generic.List<SamplingProgress>();
        using var y = HeunSolver.Instance.Solve(counter, x, KarrasSchedule.EdmGrid(18), progress: new SyncProgress<SamplingProgress>(reports.Add));
        Assert.Equal(35, counter.Calls);
        Assert.Equal(35, reports[^1].Evaluations);
        Assert.Equal(18, reports.Count);
    }
}

/// <summary>Counts denoiser calls.</summary>
internal sealed class CountingDenoiser : IDenoiser
{
    private readonly IDenoiser _inner;
    public CountingDenoiser(IDenoiser inner) => _inner = inner;
    public int Calls { get; private set; }
    public double SigmaMin => _inner.SigmaMin;
    public double SigmaMax => _inner.SigmaMax;
    public double SigmaData => _inner.SigmaData;
    public double Rho => _inner.Rho;
    public Device Device => _inner.Device;
    public ScalarType DType => _inner.DType;
    public int NumClasses => _inner.NumClasses;
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels = null) { Calls++; return _inner.Denoise(x, sigma, labels); }
}

/// <summary>IProgress that reports synchronously (System.Progress posts to the thread pool).</summary>
internal sealed class SyncProgress<T> : IProgress<T>
{
    private readonly Action<T> _action;
    public SyncProgress(Action<T> action) => _action = action;
    public void Report(T value) => _action(value);
}
