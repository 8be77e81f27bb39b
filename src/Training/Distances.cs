using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// A per-sample distance d(a, b) → [B] for the CTM loss. The official code uses LPIPS on images; plain L2 and
/// pseudo-Huber are provided, and any feature distance can be plugged in with <see cref="Distances.Custom"/>.
/// </summary>
public interface IDistance
{
    /// <summary>Per-sample distance, shape [B]. Inputs are borrowed; the result is new.</summary>
    /// <param name="estimate">x_est (carries the gradient).</param>
    /// <param name="target">x_tgt (no gradient).</param>
    Tensor Compute(Tensor estimate, Tensor target);
}

/// <summary>Ready-made distances.</summary>
public static class Distances
{
    /// <summary>Mean squared error over all non-batch dimensions.</summary>
    public static IDistance L2 { get; } = new L2Distance();

    /// <summary>Pseudo-Huber √(‖a − b‖²/D + c²) − c (iCT), robust to outliers.</summary>
    /// <param name="c">c &gt; 0; iCT uses 0.00054·√D for images.</param>
    public static IDistance PseudoHuber(double c = 0.03)
    {
        if (!(c > 0)) throw new ArgumentOutOfRangeException(nameof(c), c, "c must be > 0.");
        return new PseudoHuberDistance(c);
    }

    /// <summary>Any distance, e.g. LPIPS or a feature-space MSE; must return shape [B].</summary>
    /// <param name="distance">(estimate, target) → [B].</param>
    public static IDistance Custom(Func<Tensor, Tensor, Tensor> distance) => new CustomDistance(distance ?? throw new ArgumentNullException(nameof(distance)));

    private sealed class L2Distance : IDistance
    {
        public Tensor Compute(Tensor a, Tensor b)
        {
            using var scope = NewDisposeScope();
            return (a - b).square().flatten(1).mean(new long[] { 1 }).MoveToOuterDisposeScope();
        }
    }

    private sealed class PseudoHuberDistance : IDistance
    {
        private readonly double _c;
        public PseudoHuberDistance(double c) => _c = c;
        public Tensor Compute(Tensor a, Tensor b)
        {
            using var scope = NewDisposeScope();
            var d2 = (a - b).square().flatten(1).mean(new long[] { 1 });
            return ((d2 + _c * _c).sqrt() - _c).MoveToOuterDisposeScope();
        }
    }

    private sealed class CustomDistance : IDistance
    {
        private readonly Func<Tensor, Tensor, Tensor> _f;
        public CustomDistance(Func<Tensor, Tensor, Tensor> f) => _f = f;
        public Tensor Compute(Tensor a, Tensor b)
        {
            var d = _f(a, b);
            if (d.dim() != 1 || d.shape[0] != a.shape[0])
                throw new InvalidOperationException($"A custom CTM distance must return one value per sample, shape [{a.shape[0]}]; got [{string.Join(", ", d.shape)}].");
            return d;
        }
    }
}
