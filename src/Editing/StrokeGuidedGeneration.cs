using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ctm.Core.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Editing;

/// <summary>
/// Stroke-guided generation with any trained <see cref="ITrajectoryModel"/> (SDEdit-like; official
/// <c>iterative_stroke_painting</c> without its optional classifier-feature Langevin steps): a coarse guide is noised to
/// an intermediate time t_0 and γ-sampled from there, so the result keeps the guide's layout and colours at the scale
/// t_0 hides and fills in the detail below it.
/// </summary>
/// <remarks>x = guide + t_0·z, then γ-sampling on the grid t_0 &gt; … &gt; t_N (official: t_0 → s → t_1 → σ_min, i.e. the
/// grid [t_0, t_1, σ_min]). A larger t_0 follows the guide less. Inputs are borrowed; the result is one new tensor.</remarks>
public static class StrokeGuidedGeneration
{
    /// <summary>Generates images from a coarse guide. NFE = <c>timeGrid.Count − 1</c>.</summary>
    /// <param name="model">A trained trajectory model (borrowed).</param>
    /// <param name="guide">The stroke image [B, …] in the model's data space.</param>
    /// <param name="timeGrid">t_0 &gt; … &gt; t_N: t_0 is the noise level the guide is taken to (e.g. 2–10 for images in
    /// [−1, 1]); the rest are the jump times, normally ending at σ_min.</param>
    /// <param name="gamma">γ ∈ [0, 1].</param>
    /// <param name="generator">Source of all noise (null = a fresh random generator).</param>
    /// <param name="labels">Class ids [B] for class-conditional models; otherwise null.</param>
    /// <param name="clamp">Optional clamp of the result (e.g. (−1, 1)).</param>
    /// <param name="progress">Optional per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    /// <returns>The generated images, shaped like the guide.</returns>
    public static Tensor Generate(ITrajectoryModel model, Tensor guide, IReadOnlyList<double> timeGrid, double gamma = 0.0,
        Generator? generator = null, Tensor? labels = null, (double Min, double Max)? clamp = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ReplacementSampling.CheckImages(model, guide, nameof(guide));
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        if (clamp is { } c && !(c.Min < c.Max)) throw new ArgumentException($"clamp needs Min < Max, got ({c.Min}, {c.Max}).", nameof(clamp));
        var schedule = JumpSchedule.Gamma(model, timeGrid.ToArray(), gamma);
        TensorGuard.Labels(labels, guide.shape[0], model.NumClasses, model.Device);
        int last = schedule.Jumps - 1;
        JumpLoop.AfterJump? clampLast = clamp is { } k ? (xHat, n, _) => n == last ? xHat.clamp(k.Min, k.Max) : xHat : null;
        if (generator is not null) Noise.CheckGenerator(generator, nameof(generator));
        var gen = generator ?? Noise.FreshGenerator();
        try
        {
            using var scope = NewDisposeScope();
            var x = guide + schedule.From[0] * Noise.Normal(guide.shape, guide.dtype, guide.device, gen);   // the guide noised to t_0
            return JumpLoop.Run(model, x, schedule, labels, gen, clampLast, progress, cancellationToken).MoveToOuterDisposeScope();
        }
        finally
        {
            if (generator is null) gen.Dispose();
        }
    }
}
