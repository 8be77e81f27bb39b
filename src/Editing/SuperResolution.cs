using System;
using System.Collections.Generic;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Editing;

/// <summary>
/// Zero-shot super-resolution with any trained <see cref="ITrajectoryModel"/> (official <c>iterative_superres</c>): from
/// an image average-pooled by a factor f, γ-sampling that restores the f×f patch means after every jump.
/// </summary>
/// <remarks>
/// The known part of a high-resolution image is its f×f patch means (the official code's first coordinate of an
/// orthonormal patch basis whose first vector is constant): R(y, x) = x − up(pool(x)) + up(y), with pool the f×f
/// average and up the nearest-neighbour repeat. The result's patch means equal the low-resolution input (to rounding).
/// Inputs are borrowed; the result is one new tensor.
/// </remarks>
public static class SuperResolution
{
    /// <summary>Average-pools [B, C, H, W] images by <paramref name="factor"/>: the low-resolution input of <see cref="Upsample"/>.</summary>
    /// <param name="images">Images [B, C, H, W] with H and W divisible by the factor (borrowed).</param>
    /// <param name="factor">The pooling factor f ≥ 2 (e.g. 2 or 4).</param>
    public static Tensor Downsample(Tensor images, int factor)
    {
        CheckFactor(images, factor, nameof(images), divisible: true);
        return nn.functional.avg_pool2d(images, factor, factor);
    }

    /// <summary>Generates [B, C, f·h, f·w] images whose f×f patch means are <paramref name="lowRes"/>. NFE = <c>timeGrid.Count − 1</c>.</summary>
    /// <param name="model">A trained trajectory model over [C, f·h, f·w] images (borrowed).</param>
    /// <param name="lowRes">y: low-resolution images [B, C, h, w] in the model's data space, e.g. from <see cref="Downsample"/>.</param>
    /// <param name="factor">f ≥ 2.</param>
    /// <param name="timeGrid">Jump times t_0 &gt; … &gt; t_N within [σ_min, σ_max], normally ending at σ_min.</param>
    /// <param name="gamma">γ ∈ [0, 1].</param>
    /// <param name="generator">Source of all noise (null = a fresh random generator).</param>
    /// <param name="labels">Class ids [B] for class-conditional models; otherwise null.</param>
    /// <param name="clamp">Optional clamp of the result (e.g. (−1, 1); may move patch means of saturated patches).</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    /// <returns>The high-resolution images [B, C, f·h, f·w].</returns>
    public static Tensor Upsample(ITrajectoryModel model, Tensor lowRes, int factor, IReadOnlyList<double> timeGrid, double gamma = 0.0,
        Generator? generator = null, Tensor? labels = null, (double Min, double Max)? clamp = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ReplacementSampling.CheckImages(model, lowRes, nameof(lowRes));
        CheckFactor(lowRes, factor, nameof(lowRes), divisible: false);
        using var scope = NewDisposeScope();
        var known = Repeat(lowRes, factor);                                  // up(y): constant on each f×f patch
        Tensor Replace(Tensor y, Tensor x) => x - Repeat(nn.functional.avg_pool2d(x, factor, factor), factor) + Repeat(nn.functional.avg_pool2d(y, factor, factor), factor);
        return ReplacementSampling.Run(model, known, known, Replace, timeGrid, gamma, generator, labels, clamp, progress, cancellationToken)
            .MoveToOuterDisposeScope();
    }

    /// <summary>Nearest-neighbour repeat of each pixel into an f×f patch.</summary>
    private static Tensor Repeat(Tensor x, int factor) =>
        x.repeat_interleave(factor, 2).repeat_interleave(factor, 3);

    private static void CheckFactor(Tensor images, int factor, string paramName, bool divisible)
    {
        if (images is null) throw new ArgumentNullException(paramName);
        if (factor < 2) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The super-resolution factor must be at least 2 (e.g. 2 or 4).");
        if (images.dim() != 4)
            throw new ArgumentException($"{paramName} must be images [B, C, H, W], got shape [{string.Join(", ", images.shape)}].", paramName);
        if (divisible && (images.shape[2] % factor != 0 || images.shape[3] % factor != 0))
            throw new ArgumentException($"{paramName} is {images.shape[2]}×{images.shape[3]}, not divisible by the factor {factor}.", paramName);
    }
}
