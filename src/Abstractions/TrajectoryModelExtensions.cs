using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>Derived quantities for any <see cref="IDenoiser"/>.</summary>
public static class TrajectoryModelExtensions
{
    /// <summary>The score ∇ log p_σ(x) = (D(x, σ) − x)/σ² (for a CTM model: from the diagonal g(x, σ, σ)).</summary>
    /// <param name="denoiser">The denoiser.</param>
    /// <param name="x">x_σ (borrowed).</param>
    /// <param name="sigma">Noise level(s), scalar or [B].</param>
    /// <param name="labels">Class ids or null.</param>
    public static Tensor Score(this IDenoiser denoiser, Tensor x, Tensor sigma, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        var d = denoiser.Denoise(x, sigma, labels);
        var sig = TimeBroadcast.ToBatch(sigma, x);
        return ((d - x) / sig.square()).MoveToOuterDisposeScope();
    }
}
