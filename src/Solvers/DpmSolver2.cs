using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Solvers;

/// <summary>
/// DPM-Solver-2 (Lu et al. 2022, "DPM-Solver", Algorithm 1 with r₁ = ½; k-diffusion <c>sample_dpm_2</c>) on the
/// probability-flow ODE of any <see cref="IDenoiser"/> — for a CTM model, its diagonal g(x, σ, σ).
/// </summary>
/// <remarks>
/// <para>In the variance-exploding parametrisation (α = 1, λ = −ln σ) a step from σ to σ' is the exponential-integrator
/// midpoint rule: with the midpoint of λ, σ_mid = √(σ·σ'), and d(x, σ) = (x − D(x, σ))/σ (= the noise prediction ε):
/// u = x + (σ_mid − σ)·d(x, σ);  x' = x + (σ' − σ)·d(u, σ_mid).</para>
/// <para>Two denoiser evaluations per step; a step to σ' = 0 is the Euler step x' = D(x, σ) (one evaluation).
/// Global error O(h²).</para>
/// </remarks>
public sealed class DpmSolver2 : OdeSolverBase
{
    /// <summary>A shared instance (the solver is stateless).</summary>
    public static DpmSolver2 Instance { get; } = new();

    /// <inheritdoc />
    public override int EvaluationsPerStep => 2;

    /// <inheritdoc />
    public override Tensor Step(IDenoiser denoiser, Tensor x, Tensor tCur, Tensor tNext, Tensor? labels = null)
    {
        CheckStepArguments(denoiser, x, tCur, tNext);
        using var scope = NewDisposeScope();
        var t = TimeBroadcast.ToBatch(tCur, x);
        var tn = TimeBroadcast.ToBatch(tNext, x);
        var d = Slope(denoiser, x, tCur, labels);                          // 1. ε at (x, σ)
        if (LandsOnZero(tNext)) return (x + (tn - t) * d).MoveToOuterDisposeScope();
        var sMid = (tCur.to(x.dtype, x.device) * tNext.to(x.dtype, x.device)).sqrt(); // 2. σ_mid = √(σ σ'): the midpoint in λ
        var u = x + (TimeBroadcast.ToBatch(sMid, x) - t) * d;               // 3. half step to σ_mid
        var dMid = Slope(denoiser, u, sMid, labels);                      // 4. ε at (u, σ_mid)
        return (x + (tn - t) * dMid).MoveToOuterDisposeScope();            // 5. full step with the midpoint slope
    }
}
