using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Editing;

/// <summary>
/// Zero-shot colorization with any trained <see cref="ITrajectoryModel"/> (official <c>iterative_colorization</c>):
/// multi-channel images from their luminance L = Σ_c w_c·x_c, by γ-sampling that restores L after every jump.
/// </summary>
/// <remarks>
/// The known part of a pixel x ∈ R^C is its component along w (the official code's first coordinate of an orthonormal
/// basis whose first vector is w/‖w‖): R(y, x) = x + w·(⟨w, y⟩ − ⟨w, x⟩)/‖w‖², so the result's luminance equals the
/// input's (to rounding). The start is the minimum-norm image with that luminance, w·L/‖w‖², plus t_0·z. Inputs are
/// borrowed; the result is one new tensor.
/// </remarks>
public static class Colorization
{
    /// <summary>The ITU-R BT.601 luma weights (0.2989, 0.5870, 0.1140) the official code uses for RGB.</summary>
    public static IReadOnlyList<double> Rec601 { get; } = new[] { 0.2989, 0.5870, 0.1140 };

    /// <summary>L = Σ_c w_c·x_c of images [B, C, …]: a [B, 1, …] tensor.</summary>
    /// <param name="images">Images [B, C, …] (borrowed).</param>
    /// <param name="weights">w, one weight per channel; null = <see cref="Rec601"/> (3 channels).</param>
    public static Tensor Luminance(Tensor images, IReadOnlyList<double>? weights = null)
    {
        if (images is null) throw new ArgumentNullException(nameof(images));
        if (images.dim() < 2) throw new ArgumentException($"images must be [B, C, …], got shape [{string.Join(", ", images.shape)}].", nameof(images));
        var w = CheckWeights(weights, images.shape[1]);
        using var scope = NewDisposeScope();
        return (images * Broadcast(w, images)).sum(1, keepdim: true).MoveToOuterDisposeScope();
    }

    /// <summary>Generates [B, C, …] images whose luminance is <paramref name="luminance"/>. NFE = <c>timeGrid.Count − 1</c>.</summary>
    /// <param name="model">A trained trajectory model over [C, …] images (borrowed).</param>
    /// <param name="luminance">L: [B, 1, …] in the model's data space (e.g. <see cref="Luminance"/> of colour images).</param>
    /// <param name="timeGrid">Jump times t_0 &gt; … &gt; t_N within [σ_min, σ_max], normally ending at σ_min.</param>
    /// <param name="gamma">γ ∈ [0, 1].</param>
    /// <param name="weights">w, one per output channel (C = its length); null = <see cref="Rec601"/> (RGB).</param>
    /// <param name="generator">Source of all noise (null = a fresh random generator).</param>
    /// <param name="labels">Class ids [B] for class-conditional models; otherwise null.</param>
    /// <param name="clamp">Optional clamp of the result (e.g. (−1, 1); may move the luminance of saturated pixels).</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    /// <returns>The colour images [B, C, …].</returns>
    public static Tensor Colorize(ITrajectoryModel model, Tensor luminance, IReadOnlyList<double> timeGrid, double gamma = 0.0,
        IReadOnlyList<double>? weights = null, Generator? generator = null, Tensor? labels = null, (double Min, double Max)? clamp = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ReplacementSampling.CheckImages(model, luminance, nameof(luminance));
        if (luminance.shape[1] != 1)
            throw new ArgumentException($"luminance must have one channel, [B, 1, …], got [{string.Join(", ", luminance.shape)}]; compute it with Colorization.Luminance.", nameof(luminance));
        var w = CheckWeights(weights, null);
        double norm2 = w.Sum(v => v * v);
        using var scope = NewDisposeScope();
        var shape = luminance.shape.ToArray();
        shape[1] = w.Length;
        var wt = Broadcast(w, luminance).expand(shape);
        var known = wt * luminance / norm2;                                          // w·L/‖w‖²: luminance L, nothing else
        Tensor Replace(Tensor y, Tensor x) => x + wt * ((y - x) * wt).sum(1, keepdim: true) / norm2;
        return ReplacementSampling.Run(model, known, known, Replace, timeGrid, gamma, generator, labels, clamp, progress, cancellationToken)
            .MoveToOuterDisposeScope();
    }

    private static double[] CheckWeights(IReadOnlyList<double>? weights, long? channels)
    {
        var w = (weights ?? Rec601).ToArray();
        if (w.Length == 0 || w.Any(v => !double.IsFinite(v)) || w.All(v => v == 0))
            throw new ArgumentException("weights must be finite and not all zero, one per channel (RGB: Colorization.Rec601).", nameof(weights));
        if (channels is long c && c != w.Length)
            throw new ArgumentException($"The images have {c} channels but {w.Length} weights were given; pass one weight per channel.", nameof(weights));
        return w;
    }

    /// <summary>w as [1, C, 1, …] in x's dtype and device.</summary>
    private static Tensor Broadcast(double[] w, Tensor x)
    {
        var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        shape[1] = w.Length;
        return tensor(w, dtype: x.dtype, device: x.device).reshape(shape);
    }
}
