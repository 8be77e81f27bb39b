using System;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Diagnostics;

/// <summary>
/// Measures an <see cref="IOdeSolver"/>'s global error against an exact trajectory model as the Karras grid
/// doubles; the observed order is log2(e(n)/e(2n)) (Euler → 1, Heun → 2).
/// </summary>
public static class ConvergenceStudy
{
    /// <summary>Result of a study: steps, max-abs global errors, and observed orders between consecutive step counts.</summary>
    /// <param name="Steps">Step counts n.</param>
    /// <param name="Errors">max |x_n − G*(x_T, σ_max, σ_min)| for each n.</param>
    /// <param name="Orders">log2(e(n_i)/e(n_{i+1})).</param>
    public sealed record Result(int[] Steps, double[] Errors, double[] Orders);

    /// <summary>
    /// Solves from x_T = σ_max·z to σ_min on Karras grids of the given step counts (each double the previous) and
    /// compares with the exact jump of <paramref name="exact"/>.
    /// </summary>
    /// <param name="solver">The solver under study.</param>
    /// <param name="exact">An exact model (its denoiser drives the solver; its G* is the reference).</param>
    /// <param name="steps">Increasing step counts, e.g. 64, 128, 256, 512.</param>
    /// <param name="batch">Number of trajectories.</param>
    /// <param name="seed">Seed of x_T.</param>
    public static Result Run(IOdeSolver solver, AnalyticModel exact, int[] steps, int batch = 256, ulong seed = 11)
    {
        if (solver is null) throw new ArgumentNullException(nameof(solver));
        if (exact is null) throw new ArgumentNullException(nameof(exact));
        if (steps is null || steps.Length < 2 || steps.Any(s => s < 1))
            throw new ArgumentException("Pass at least two positive step counts.", nameof(steps));
        using var scope = NewDisposeScope();
        using var gen = new Generator(seed);
        var x = Sampling.Noise.Normal(new long[] { batch, exact.Dimension }, exact.DType, exact.Device, gen) * exact.SigmaMax;
        var reference = exact.Jump(x, exact.SigmaMax, exact.SigmaMin);
        var errors = new double[steps.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            using var inner = NewDisposeScope();
            var y = solver.Solve(exact, x, KarrasSchedule.Sigmas(steps[i] + 1, exact.SigmaMin, exact.SigmaMax));
            errors[i] = (y - reference).abs().max().to_type(ScalarType.Float64).item<double>();
        }
        var orders = new double[steps.Length - 1];
        for (int i = 0; i < orders.Length; i++) orders[i] = Math.Log(errors[i] / errors[i + 1]) / Math.Log((double)steps[i + 1] / steps[i]);
        return new Result((int[])steps.Clone(), errors, orders);
    }
}
