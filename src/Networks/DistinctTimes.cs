using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// The distinct values of a per-sample time input and each sample's index into them. The vector networks run their time
/// branches (the embedding, its mapping MLP and every block's affine layers) on the distinct values and gather the rows,
/// so a batch whose times come from a grid (CTM training: at most N values; a sampler's step: one) pays for those
/// branches once per value instead of once per sample (in the 2-D networks they are half of a block's matrix products).
/// Row for row the same values as the per-sample computation.
/// </summary>
/// <remarks>The tensors belong to the caller's dispose scope.</remarks>
internal readonly struct DistinctTimes
{
    private DistinctTimes(Tensor values, Tensor? inverse) { Values = values; Inverse = inverse; }

    /// <summary>The values to evaluate the time branch on: the distinct values, or the input itself.</summary>
    public Tensor Values { get; }

    /// <summary>Each sample's row in <see cref="Values"/>; null when <see cref="Values"/> is the input.</summary>
    public Tensor? Inverse { get; }

    /// <summary>Splits <paramref name="time"/> ([B]) into its distinct values; keeps it whole when it needs a gradient
    /// (unique is not differentiable), has fewer than two elements, or has no repeated value.</summary>
    public static DistinctTimes Of(Tensor time)
    {
        if (time.requires_grad || time.numel() < 2) return new(time, null);
        var flat = time.reshape(-1);
        var (values, inverse, counts) = unique(flat, sorted: false, return_inverse: true);
        counts?.Dispose();
        if (values.shape[0] == flat.shape[0]) { values.Dispose(); inverse?.Dispose(); return new(time, null); }
        return new(values, inverse);
    }

    /// <summary>Per-sample rows of a per-value result <paramref name="perValue"/> ([U, …] → [B, …]).</summary>
    public Tensor PerSample(Tensor perValue) => Inverse is null ? perValue : perValue.index_select(0, Inverse);
}
