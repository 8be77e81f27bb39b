using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Solvers;

/// <summary>
/// First-order Euler steps on the probability-flow ODE: x ← x + (t_{i+1} − t_i)·(x − D(x, t_i))/t_i.
/// One denoiser evaluation per step; global error O(h).
/// </summary>
public sealed class EulerSolver : OdeSolverBase
{
    /// <summary>A shared instance (the solver is stateless).</summary>
    public static EulerSolver Instance { get; } = new();

    /// <inheritdoc />
    public override int EvaluationsPerStep => 1;

    /// <inheritdoc />
    public override Tensor Step(IDenoiser denoiser, Tensor x, Tensor tCur, Tensor tNext, Tensor? labels = null)
    {
        CheckStepArguments(denoiser, x, tCur, tNext);
        using var scope = NewDisposeScope();
        var h = TimeBroadcast.ToBatch(tNext, x) - TimeBroadcast.ToBatch(tCur, x);
        var d = Slope(denoiser, x, tCur, labels);          // d = (x − D(x, t_i))/t_i
        return (x + h * d).MoveToOuterDisposeScope();       // Euler step
    }
}
