using System;
using System.Collections.Generic;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Editing;

/// <summary>
/// Zero-shot inpainting with any trained <see cref="ITrajectoryModel"/> (Kim et al. 2024, §6; official
/// <c>iterative_inpainting</c>): γ-sampling that puts the known pixels back after every jump.
/// </summary>
/// <remarks>
/// R(y, x) = M·y + (1 − M)·x for a mask M (1 = known). The start is M·y + (1 − M)·fill + t_0·z; after jump n the known
/// pixels are replaced by y + s_n·z₁ (noised to the jump's target level), and after the last jump by y itself, so
/// the result holds every known pixel exactly. Inputs are borrowed; the result is one new tensor.
/// </remarks>
public static class Inpainting
{
    /// <summary>Fills the unknown pixels (mask 0) of <paramref name="images"/>. NFE = <c>timeGrid.Count − 1</c> (one jump per interval).</summary>
    /// <param name="model">A trained trajectory model over images shaped like <paramref name="images"/>[i] (borrowed).</param>
    /// <param name="images">y: images [B, …] in the model's data space (only the known pixels are used).</param>
    /// <param name="mask">M, 1 where the pixel is known and 0 where it is to be generated; bool or floating, shaped like
    /// <paramref name="images"/> or broadcastable to it (e.g. [1, 1, H, W] for one mask over the batch and channels).</param>
    /// <param name="timeGrid">Jump times t_0 &gt; … &gt; t_N within [σ_min, σ_max], ending at σ_min for a clean result
    /// (e.g. the model's <c>KarrasSchedule.SamplingGrid(steps, model.SigmaMin, model.SigmaMax, model.Rho)</c>; NFE = steps).</param>
    /// <param name="gamma">γ ∈ [0, 1]: 0 = deterministic jumps, 1 = CM-style denoise-and-renoise.</param>
    /// <param name="generator">Source of all noise (null = a fresh random generator).</param>
    /// <param name="labels">Class ids [B] for class-conditional models; otherwise null.</param>
    /// <param name="fill">Value of the unknown pixels before noising (official: −1).</param>
    /// <param name="clamp">Optional clamp of the result (e.g. (−1, 1) for images; known pixels outside it are clamped too).</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    /// <returns>The inpainted images [B, …].</returns>
    public static Tensor Inpaint(ITrajectoryModel model, Tensor images, Tensor mask, IReadOnlyList<double> timeGrid, double gamma = 0.0,
        Generator? generator = null, Tensor? labels = null, double fill = -1.0, (double Min, double Max)? clamp = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ReplacementSampling.CheckImages(model, images, nameof(images));
        if (!double.IsFinite(fill)) throw new ArgumentOutOfRangeException(nameof(fill), fill, "fill must be a finite value.");
        using var scope = NewDisposeScope();
        var known = KnownMask(mask, images);
        using var fillValue = tensor(fill, dtype: images.dtype, device: images.device);
        var filled = where(known, images, fillValue);
        return ReplacementSampling.Run(model, images, filled, (y, x) => where(known, y, x), timeGrid, gamma, generator, labels, clamp,
            progress, cancellationToken).MoveToOuterDisposeScope();
    }

    /// <summary>The mask as a bool tensor broadcast to the images' shape, with teaching errors.</summary>
    private static Tensor KnownMask(Tensor mask, Tensor images)
    {
        if (mask is null) throw new ArgumentNullException(nameof(mask));
        if (mask.device_type != images.device_type)
            throw new ArgumentException($"mask is on {mask.device} but the images are on {images.device}; move it with mask.to(images.device).", nameof(mask));
        if (mask.dim() > images.dim())
            throw new ArgumentException($"mask has rank {mask.dim()} but the images only {images.dim()}; give a mask shaped like the images or broadcastable to them.", nameof(mask));
        for (int i = 1; i <= mask.dim(); i++)
        {
            long m = mask.shape[^i], x = images.shape[^i];
            if (m != x && m != 1)
                throw new ArgumentException($"mask shape [{string.Join(", ", mask.shape)}] does not broadcast to the images' [{string.Join(", ", images.shape)}].", nameof(mask));
        }
        if (mask.dtype == ScalarType.Bool) return mask.expand(images.shape);
        if (!mask.is_floating_point() && mask.dtype != ScalarType.Int64 && mask.dtype != ScalarType.Int32 && mask.dtype != ScalarType.Byte)
            throw new ArgumentException($"mask must be bool, integer or floating 0/1, got {mask.dtype}.", nameof(mask));
        var known = mask.ne(0);
        if (!mask.eq(1).logical_or(mask.eq(0)).all().item<bool>())
            throw new ArgumentException("mask must hold only 0 (generate) and 1 (known); threshold a soft mask first, e.g. mask.gt(0.5).", nameof(mask));
        return known.expand(images.shape);
    }
}
