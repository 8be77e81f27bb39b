using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>The parts of one CTM objective evaluation, for logging. NaN marks a part that was not computed.</summary>
/// <param name="Ctm">L_CTM, the soft consistency matching loss.</param>
/// <param name="Dsm">L_DSM, denoising score matching on the diagonal.</param>
/// <param name="GanGenerator">L_G = −E[D(x_est)], the generator's hinge term.</param>
/// <param name="GanDiscriminator">The discriminator's hinge loss (discriminator steps only).</param>
/// <param name="LambdaDsm">λ_DSM used (adaptive or 1).</param>
/// <param name="LambdaGan">λ_GAN used (adaptive or 1; 0 when the GAN is off).</param>
/// <param name="K">Teacher steps k between t and u this iteration.</param>
public readonly record struct CtmLossBreakdown(double Ctm, double Dsm, double GanGenerator, double GanDiscriminator,
    double LambdaDsm, double LambdaGan, int K);

/// <summary>A loss to back-propagate plus its breakdown. Owns <see cref="Total"/>; dispose it.</summary>
public sealed class CtmLossResult : IDisposable
{
    /// <summary>Creates a result (takes ownership of <paramref name="total"/>).</summary>
    /// <param name="total">The scalar loss with its graph.</param>
    /// <param name="breakdown">Its parts.</param>
    public CtmLossResult(Tensor total, CtmLossBreakdown breakdown)
    {
        Total = total ?? throw new ArgumentNullException(nameof(total));
        Breakdown = breakdown;
    }

    /// <summary>The scalar to call <c>backward()</c> on.</summary>
    public Tensor Total { get; }

    /// <summary>Its parts as numbers.</summary>
    public CtmLossBreakdown Breakdown { get; }

    /// <inheritdoc />
    public void Dispose() => Total.Dispose();
}

/// <summary>
/// The CTM training objective (Kim et al. 2024, §4 and the official <c>ctm_losses</c>): generator side
/// L = L_CTM + λ_DSM·L_DSM + λ_GAN·L_G, and the discriminator's hinge loss.
/// </summary>
public interface ICtmLoss
{
    /// <summary>The generator objective on a batch of clean data.</summary>
    /// <param name="x0">Clean data [B, …] (borrowed).</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="generator">Source of every random draw.</param>
    /// <param name="withGan">Whether to include the adversarial term.</param>
    CtmLossResult GeneratorLoss(Tensor x0, Tensor? labels, Generator generator, bool withGan);

    /// <summary>The discriminator's hinge loss: mean ReLU(1 − D(real)) + mean ReLU(1 + D(fake)), fakes = CTM estimates.</summary>
    /// <param name="x0">Clean data [B, …] (the reals; borrowed).</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="generator">Source of every random draw.</param>
    CtmLossResult DiscriminatorLoss(Tensor x0, Tensor? labels, Generator generator);
}
