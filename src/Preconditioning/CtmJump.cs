using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Preconditioning;

/// <summary>
/// The CTM jump (Kim et al. 2024, Eq. 4; official <c>get_outer_scalings(..., 'euler')</c>):
/// G(x_t, t, s) = (s/t)·x_t + (1 − s/t)·g(x_t, t, s).
/// </summary>
/// <remarks>At s = t the jump is the identity; at s → 0 it returns g. The <see cref="double"/> overloads need no libtorch.</remarks>
public static class CtmJump
{
    /// <summary>The weight s/t of x_t in the jump.</summary>
    /// <param name="t">Start time t &gt; 0.</param>
    /// <param name="s">End time 0 ≤ s ≤ t.</param>
    public static double SkipCoefficient(double t, double s) => s / t;

    /// <summary>The weight 1 − s/t of g in the jump.</summary>
    /// <param name="t">Start time t &gt; 0.</param>
    /// <param name="s">End time 0 ≤ s ≤ t.</param>
    public static double OutCoefficient(double t, double s) => 1.0 - s / t;

    /// <summary>Scalar jump G = (s/t)·x + (1 − s/t)·g.</summary>
    /// <param name="x">x_t.</param>
    /// <param name="g">g(x_t, t, s).</param>
    /// <param name="t">Start time.</param>
    /// <param name="s">End time.</param>
    public static double Apply(double x, double g, double t, double s) => s / t * x + (1.0 - s / t) * g;

    /// <summary>
    /// Tensor jump G = (s/t)·x + (1 − s/t)·g; <paramref name="t"/> and <paramref name="s"/> must broadcast against x
    /// (e.g. shape [B, 1, …]). Inputs are borrowed; the result is new.
    /// </summary>
    /// <param name="x">x_t.</param>
    /// <param name="g">g(x_t, t, s), same shape as x.</param>
    /// <param name="t">Start times, broadcastable to x.</param>
    /// <param name="s">End times, broadcastable to x.</param>
    public static Tensor Apply(Tensor x, Tensor g, Tensor t, Tensor s)
    {
        using var scope = NewDisposeScope();
        var ratio = s / t;
        return (ratio * x + (1.0 - ratio) * g).MoveToOuterDisposeScope();
    }
}
