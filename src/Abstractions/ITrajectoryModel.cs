using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>
/// A consistency trajectory model: one map that jumps along the probability-flow ODE from any time t to any earlier
/// time s, G(x_t, t, s) = (s/t)·x_t + (1 − s/t)·g(x_t, t, s) (Kim et al. 2024, Eq. 4).
/// </summary>
/// <remarks>
/// The diagonal g(x, t, t) is a denoiser, so a trajectory model is also an <see cref="IDenoiser"/>:
/// <see cref="IDenoiser.Denoise(Tensor, Tensor, Tensor?)"/>(x, σ) = <see cref="Predict(Tensor, Tensor, Tensor, Tensor?)"/>(x, σ, σ). Times t and s are scalar tensors or
/// shape [B]; σ_min ≤ s ≤ t ≤ σ_max. Inputs are borrowed; results are new tensors owned by the caller.
/// Scalar-time overloads (<c>Jump(x, 80.0, 0.002)</c>) are members, so the exact match wins over TorchSharp's implicit
/// double → Tensor conversion (see docs/architecture.md).
/// </remarks>
public interface ITrajectoryModel : IDenoiser
{
    /// <summary>G(x_t, t, s): the state at time s on the ODE trajectory through x_t at time t.</summary>
    /// <param name="x">x_t, shape [B, …] (borrowed).</param>
    /// <param name="t">Start time(s), scalar or [B], in [σ_min, σ_max].</param>
    /// <param name="s">End time(s), scalar or [B], with σ_min ≤ s ≤ t.</param>
    /// <param name="labels">Class ids [B] for class-conditional models; otherwise null.</param>
    /// <returns>A new tensor shaped like <paramref name="x"/>.</returns>
    Tensor Jump(Tensor x, Tensor t, Tensor s, Tensor? labels = null);

    /// <summary>
    /// g(x_t, t, s): the prediction that the jump interpolates towards (the official code's <c>denoised</c>); with s = t
    /// it is the denoiser D(x_t, t).
    /// </summary>
    /// <param name="x">x_t, shape [B, …] (borrowed).</param>
    /// <param name="t">Start time(s), scalar or [B], in [σ_min, σ_max].</param>
    /// <param name="s">End time(s), scalar or [B], with σ_min ≤ s ≤ t.</param>
    /// <param name="labels">Class ids [B] for class-conditional models; otherwise null.</param>
    /// <returns>A new tensor shaped like <paramref name="x"/>.</returns>
    Tensor Predict(Tensor x, Tensor t, Tensor s, Tensor? labels = null);

    /// <summary>G(x, t, s) with one t and one s for the whole batch.</summary>
    /// <param name="x">x_t (borrowed).</param>
    /// <param name="t">Start time in [σ_min, σ_max].</param>
    /// <param name="s">End time, σ_min ≤ s ≤ t.</param>
    /// <param name="labels">Class ids [B] or null.</param>
    Tensor Jump(Tensor x, double t, double s, Tensor? labels = null) => ScalarTimes.Jump(this, x, t, s, labels);

    /// <summary>g(x, t, s) with one t and one s for the whole batch.</summary>
    /// <param name="x">x_t (borrowed).</param>
    /// <param name="t">Start time in [σ_min, σ_max].</param>
    /// <param name="s">End time, σ_min ≤ s ≤ t.</param>
    /// <param name="labels">Class ids [B] or null.</param>
    Tensor Predict(Tensor x, double t, double s, Tensor? labels = null) => ScalarTimes.Predict(this, x, t, s, labels);
}
