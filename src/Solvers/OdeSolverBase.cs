using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ctm.Core.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Solvers;

/// <summary>
/// The grid loop shared by the explicit one-step solvers: validate once, then call <see cref="Step"/> per interval
/// inside its own dispose scope, so memory stays flat however long the grid is.
/// </summary>
public abstract class OdeSolverBase : IOdeSolver
{
    /// <inheritdoc />
    public abstract int EvaluationsPerStep { get; }

    /// <inheritdoc />
    public abstract Tensor Step(IDenoiser denoiser, Tensor x, Tensor tCur, Tensor tNext, Tensor? labels = null);

    /// <inheritdoc />
    public virtual Tensor Solve(IDenoiser denoiser, Tensor x, IReadOnlyList<double> timeGrid, Tensor? labels = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var grid = CheckSolveArguments(denoiser, x, timeGrid, labels);
        var cur = x.alias();
        int nfe = 0;
        for (int i = 0; i < grid.Length - 1; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using (var scope = NewDisposeScope())
            {
                var tCur = tensor(grid[i], dtype: x.dtype, device: x.device);
                var tNext = tensor(grid[i + 1], dtype: x.dtype, device: x.device);
                var next = Step(denoiser, cur, tCur, tNext, labels).MoveToOuterDisposeScope();
                cur.Dispose();
                cur = next;
            }
            nfe += grid[i + 1] == 0.0 ? 1 : EvaluationsPerStep;
            progress?.Report(new SamplingProgress(i + 1, grid.Length - 1, grid[i], grid[i + 1], nfe));
        }
        return cur;
    }

    /// <summary>Checks the arguments of <see cref="Solve"/> (teaching errors) and returns the grid as an array.</summary>
    /// <param name="denoiser">The denoiser.</param>
    /// <param name="x">The starting state.</param>
    /// <param name="timeGrid">The grid.</param>
    /// <param name="labels">Class ids or null.</param>
    protected static double[] CheckSolveArguments(IDenoiser denoiser, Tensor x, IReadOnlyList<double> timeGrid, Tensor? labels)
    {
        if (denoiser is null) throw new ArgumentNullException(nameof(denoiser));
        if (x is null) throw new ArgumentNullException(nameof(x));
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        var grid = timeGrid.ToArray();
        KarrasSchedule.Validate(grid, denoiser.SigmaMin, denoiser.SigmaMax, allowFinalZero: true, nameof(timeGrid));
        TensorGuard.Batch(x, denoiser.Device, nameof(x));
        TensorGuard.Labels(labels, x.shape[0], denoiser.NumClasses, denoiser.Device);
        return grid;
    }

    /// <summary>
    /// Checks the arguments of <see cref="Step"/>: tCur in [σ_min, σ_max], tNext strictly below tCur (the ODE runs from
    /// noise towards data) and either 0 or at least σ_min.
    /// </summary>
    /// <param name="denoiser">The denoiser.</param>
    /// <param name="x">The state.</param>
    /// <param name="tCur">Current time(s).</param>
    /// <param name="tNext">Next time(s).</param>
    private protected static void CheckStepArguments(IDenoiser denoiser, Tensor x, Tensor tCur, Tensor tNext)
    {
        if (denoiser is null) throw new ArgumentNullException(nameof(denoiser));
        if (x is null) throw new ArgumentNullException(nameof(x));
        if (x.IsInvalid) throw new ArgumentException("x has been disposed.", nameof(x));
        if (denoiser is Models.UncheckedDenoiser) return;   // internal callers (the CTM loss's teacher steps) pass checked grids
        if (x.dim() < 2) TensorGuard.Batch(x, denoiser.Device, nameof(x));   // the denoiser checks x's values itself
        long b = x.shape[0];
        TensorGuard.Times(tCur, b, denoiser.SigmaMin, denoiser.SigmaMax, nameof(tCur), "[σ_min, σ_max]");
        TensorGuard.Times(tNext, b, 0.0, denoiser.SigmaMax, nameof(tNext), "[0, σ_max]");
        using var scope = NewDisposeScope();
        var cur = tCur.to(ScalarType.Float64, CPU);
        var next = tNext.to(ScalarType.Float64, CPU);
        if ((next >= cur).any().item<bool>())
            throw new ArgumentException("tNext must be below tCur: a solver step integrates from noise (tCur) towards data (tNext < tCur).", nameof(tNext));
        if ((next.gt(0) & next.lt(denoiser.SigmaMin * (1 - KarrasSchedule.Tolerance))).any().item<bool>())
            throw new ArgumentOutOfRangeException(nameof(tNext), $"tNext must be 0 or at least σ_min = {denoiser.SigmaMin}; the model is not defined in between.");
    }

    /// <summary>The ODE slope d = (x − D(x, t))/t.</summary>
    /// <param name="denoiser">The denoiser.</param>
    /// <param name="x">State (borrowed).</param>
    /// <param name="t">Time(s), scalar or [B].</param>
    /// <param name="labels">Class ids or null.</param>
    protected static Tensor Slope(IDenoiser denoiser, Tensor x, Tensor t, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        var d = denoiser.Denoise(x, t, labels);
        return ((x - d) / TimeBroadcast.ToBatch(t, x)).MoveToOuterDisposeScope();
    }

    /// <summary>Whether all of <paramref name="tNext"/> are 0 (true), all positive (false); mixed is an error.</summary>
    /// <param name="tNext">Next time(s).</param>
    protected static bool LandsOnZero(Tensor tNext)
    {
        using var scope = NewDisposeScope();
        var zero = tNext.eq(0);
        if (!zero.any().item<bool>()) return false;
        if (zero.all().item<bool>()) return true;
        throw new ArgumentException("tNext mixes 0 and positive times within one batch; step those samples separately.", nameof(tNext));
    }
}
