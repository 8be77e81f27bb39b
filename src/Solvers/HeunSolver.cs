using Ctm.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Solvers;

/// <summary>
/// EDM's second-order Heun rule (Karras et al. 2022, Algorithm 1; CTM teacher <c>heun_solver</c>): an Euler step,
/// then the trapezoidal correction with the slope at the new point. When the next time is 0 the step stays Euler
/// (EDM's last step); on CTM grids, which end at σ_min, every step is Heun. Global error O(h²).
/// </summary>
public sealed class HeunSolver : OdeSolverBase
{
    /// <summary>A shared instance (the solver is stateless).</summary>
    public static HeunSolver Instance { get; } = new();

    /// <inheritdoc />
    public override int EvaluationsPerStep => 2;

    /// <inheritdoc />
    public override Tensor Step(IDenoiser denoiser, Tensor x, Tensor tCur, Tensor tNext, Tensor? labels = null)
    {
        CheckStepArguments(denoiser, x, tCur, tNext);
        using var scope = NewDisposeScope();
        var h = TimeBroadcast.ToBatch(tNext, x) - TimeBroadcast.ToBatch(tCur, x);
        var d = Slope(denoiser, x, tCur, labels);              // 1. d = (x − D(x, t_i))/t_i
        var xEuler = x + h * d;                                  // 2. Euler step to t_{i+1}
        if (LandsOnZero(tNext)) return xEuler.MoveToOuterDisposeScope();
        var dNext = Slope(denoiser, xEuler, tNext, labels);    // 3. d' at (x', t_{i+1})
        return (x + h * 0.5 * (d + dNext)).MoveToOuterDisposeScope(); // 4. trapezoidal correction
    }

    /// <summary>
    /// The same step for training loops under <c>no_grad</c> with per-sample times known to be &gt; 0 (the CTM loss's
    /// teacher segment on its σ_min…σ_max grid): no argument checks, no test for t_{i+1} = 0 (a host read), and fused
    /// in-place updates — 10 element-wise kernels around the two denoiser calls instead of ~20, which is a sixth of a
    /// step for a small network.
    /// </summary>
    internal static Tensor StepPositiveNoGrad(IDenoiser denoiser, Tensor x, Tensor tCur, Tensor tNext, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        var tc = TimeBroadcast.ToBatch(tCur, x);
        var tn = TimeBroadcast.ToBatch(tNext, x);
        var halfH = (tn - tc).mul_(0.5);
        var d = (x - denoiser.Denoise(x, tCur, labels)).div_(tc);          // 1. d = (x − D(x, t_i))/t_i
        var xEuler = x.addcmul(halfH, d, value: 2.0);                       // 2. x' = x + h·d
        var dNext = (xEuler - denoiser.Denoise(xEuler, tNext, labels)).div_(tn); // 3. d' at (x', t_{i+1})
        return x.addcmul(halfH, d.add_(dNext), value: 1.0).MoveToOuterDisposeScope();   // 4. x + h/2·(d + d')
    }

    /// <summary>
    /// <see cref="StepPositiveNoGrad"/> from t_i to t_{i+1} on the grid rows of an EDM-preconditioned teacher: with
    /// D = c_skip·x + c_out·F the slope is (x − D)/t = a·x + b·F (a, b per grid index, <see cref="GridConstants"/>), so
    /// the step is its two network calls and eight element-wise kernels, with no scalings recomputed.
    /// </summary>
    internal static Tensor StepRowsNoGrad(PreconditionedModel teacher, Tensor x, GridRows cur, GridRows next, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        var h = cur[GridConstants.H];
        var f = teacher.NetworkRows(x, cur, cur, labels);
        var d = (x * cur[GridConstants.A]).addcmul_(f, cur[GridConstants.B], value: 1.0);   // 1. d = (x − D(x, t_i))/t_i
        var xEuler = x.addcmul(d, h, value: 1.0);                                             // 2. x' = x + h·d
        var fNext = teacher.NetworkRows(xEuler, next, next, labels);
        d.addcmul_(xEuler, next[GridConstants.A], value: 1.0).addcmul_(fNext, next[GridConstants.B], value: 1.0); // 3. d + d'
        return x.addcmul(d, h, value: 0.5).MoveToOuterDisposeScope();             // 4. x + h/2·(d + d')
    }

    /// <summary>
    /// k <see cref="StepRowsNoGrad"/> steps along the grid from each sample's index <paramref name="start"/> (the CTM
    /// loss's teacher segment x_t → x_u); the rows gathered for step j's end serve as step j + 1's start. Under no_grad.
    /// </summary>
    internal static Tensor SegmentRowsNoGrad(PreconditionedModel teacher, GridConstants grid, Tensor x, Tensor start, int k, Tensor? labels)
    {
        var current = x.alias();
        var index = start;
        var cur = grid.Rows(index, x);
        for (int j = 0; j < k; j++)
        {
            index = index + 1;
            var next = grid.Rows(index, x);
            var stepped = StepRowsNoGrad(teacher, current, cur, next, labels);
            current.Dispose();
            current = stepped;
            cur = next;
        }
        return current;
    }
}
