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
