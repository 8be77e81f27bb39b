using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ctm.Core.Sampling;
using Ctm.Core.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Editing;

/// <summary>
/// The loop behind every zero-shot edit (official <c>iterative_inpainting</c>, <c>iterative_colorization</c>,
/// <c>iterative_superres</c>): γ-sampling in which, after each jump, the known part of the image is put back.
/// </summary>
/// <remarks>
/// <para>With the grid t_0 &gt; … &gt; t_N and s_n = √(1−γ²)(t_{n+1} − σ_min) + σ_min (γ = 0: s_n = t_{n+1}; γ = 1: σ_min):
/// start x = R(y, fill) + t_0·z; for each jump x̂ = G(x, t_n, s_n); x̂ ← R(y + s_n·z₁, x̂) (the known part noised to the
/// level x̂ is at; clean when s_n = σ_min); x ← x̂ + √(t_{n+1}² − s_n²)·z₂ before the next jump.</para>
/// <para>Two deliberate differences from the official loops: the last jump lands exactly on t_N with no noise after it
/// and the clean known part put back, so the result holds the known part exactly; and re-noising uses
/// √(t_{n+1}² − s_n²) like <see cref="GammaSampler"/> (the official loops use γ·t_{n+1}, equal as σ_min → 0).</para>
/// </remarks>
internal static class ReplacementSampling
{
    /// <summary>R(known, estimate): the known part of <c>known</c> and the rest of <c>estimate</c> (a new tensor).</summary>
    public delegate Tensor Replace(Tensor known, Tensor estimate);

    /// <param name="model">The trajectory model.</param>
    /// <param name="known">y, in the model's sample space [B, …] (borrowed).</param>
    /// <param name="filled">R(y, fill): the starting mean (borrowed).</param>
    /// <param name="replace">R.</param>
    /// <param name="timeGrid">t_0 &gt; … &gt; t_N.</param>
    /// <param name="gamma">γ ∈ [0, 1].</param>
    /// <param name="generator">Source of all noise (null = a fresh random generator).</param>
    /// <param name="labels">Class ids or null.</param>
    /// <param name="clamp">Optional clamp of the result.</param>
    /// <param name="progress">Per-jump progress.</param>
    /// <param name="cancellationToken">Checked between jumps.</param>
    public static Tensor Run(ITrajectoryModel model, Tensor known, Tensor filled, Replace replace, IReadOnlyList<double> timeGrid,
        double gamma, Generator? generator, Tensor? labels, (double Min, double Max)? clamp,
        IProgress<SamplingProgress>? progress, CancellationToken cancellationToken)
    {
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        if (clamp is { } c && !(c.Min < c.Max)) throw new ArgumentException($"clamp needs Min < Max, got ({c.Min}, {c.Max}).", nameof(clamp));
        var schedule = JumpSchedule.Gamma(model, timeGrid.ToArray(), gamma);
        TensorGuard.Labels(labels, known.shape[0], model.NumClasses, model.Device);
        double clean = model.SigmaMin * (1 + KarrasSchedule.Tolerance);
        int last = schedule.Jumps - 1;
        if (generator is not null) Noise.CheckGenerator(generator, nameof(generator));
        var gen = generator ?? Noise.FreshGenerator();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var x = filled + schedule.From[0] * Noise.Normal(known.shape, known.dtype, known.device, gen);   // x = R(y, fill) + t_0·z
            Tensor AfterJump(Tensor xHat, int n, double s)
            {
                var y = n < last && s > clean ? known + s * Noise.Normal(known.shape, known.dtype, known.device, gen) : known;
                var r = replace(y, xHat);                                                                  // put the known part back
                return n == last && clamp is { } k ? r.clamp(k.Min, k.Max) : r;
            }
            return JumpLoop.Run(model, x, schedule, labels, gen, AfterJump, progress, cancellationToken).MoveToOuterDisposeScope();
        }
        finally
        {
            if (generator is null) gen.Dispose();
        }
    }

    /// <summary>Checks an image batch argument against the model (device, dtype, finite, batch first).</summary>
    public static void CheckImages(ITrajectoryModel model, Tensor images, string paramName)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        TensorGuard.Batch(images, model.Device, paramName);
        TensorGuard.DType(images, model.DType, paramName);
    }
}
