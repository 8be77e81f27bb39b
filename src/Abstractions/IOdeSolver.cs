using System.Collections.Generic;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>
/// A probability-flow ODE solver, dx/dσ = (x − D(x, σ))/σ (Karras et al. 2022, Eq. 3 with σ(t) = t), over any
/// <see cref="IDenoiser"/>: the CTM teacher, a CTM model's diagonal, or an exact analytic model.
/// </summary>
/// <remarks>Solvers are stateless and re-entrant. Inputs are borrowed; results are new tensors.</remarks>
public interface IOdeSolver
{
    /// <summary>Denoiser evaluations per step away from σ = 0 (Euler 1, Heun 2).</summary>
    int EvaluationsPerStep { get; }

    /// <summary>
    /// One step from <paramref name="tCur"/> to <paramref name="tNext"/> (each scalar or [B]). NFE:
    /// <see cref="EvaluationsPerStep"/>, or 1 when <paramref name="tNext"/> is 0.
    /// </summary>
    /// <param name="denoiser">The denoiser defining the ODE.</param>
    /// <param name="x">State at tCur (borrowed).</param>
    /// <param name="tCur">Current time(s), in [σ_min, σ_max].</param>
    /// <param name="tNext">Next time(s), ≤ tCur; 0 is allowed (the step is then Euler).</param>
    /// <param name="labels">Class ids or null.</param>
    Tensor Step(IDenoiser denoiser, Tensor x, Tensor tCur, Tensor tNext, Tensor? labels = null);

    /// <summary>
    /// Solves along an explicit, strictly descending time grid (one step per interval) and returns the state at its
    /// last point. NFE = <see cref="EvaluationsPerStep"/> per interval, 1 for an interval ending at 0 (Heun on EDM's
    /// 18-step grid: 35); <see cref="SamplingProgress.Evaluations"/> counts them.
    /// </summary>
    /// <param name="denoiser">The denoiser defining the ODE.</param>
    /// <param name="x">State at grid[0] (borrowed).</param>
    /// <param name="timeGrid">Times from high to low, within [σ_min, σ_max]; the last may be 0.</param>
    /// <param name="labels">Class ids or null.</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    Tensor Solve(IDenoiser denoiser, Tensor x, IReadOnlyList<double> timeGrid, Tensor? labels = null,
        System.IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default);
}
