using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// A CTM training objective (Kim et al. 2024, §4 and the official <c>ctm_losses</c>): a generator loss to
/// back-propagate into the student and, when the objective has an adversarial part, a discriminator loss.
/// <see cref="CtmTrainer"/> runs any implementation, so a new loss term is a new (or decorating) <see cref="ICtmLoss"/>
/// whose <see cref="CtmLossBreakdown.Terms"/> name the term, with no change to the trainer.
/// </summary>
public interface ICtmLoss
{
    /// <summary>
    /// The discriminator that <see cref="DiscriminatorLoss"/> trains, or null when the objective has no adversarial
    /// part. The trainer optimises its parameters on discriminator iterations and saves it in checkpoints (borrowed).
    /// </summary>
    nn.Module? Discriminator { get; }

    /// <summary>The generator objective on a batch of clean data.</summary>
    /// <param name="x0">Clean data [B, …] (borrowed).</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="generator">Source of every random draw.</param>
    /// <param name="withGan">Whether to include the adversarial term (needs a <see cref="Discriminator"/>).</param>
    CtmLossResult GeneratorLoss(Tensor x0, Tensor? labels, Generator generator, bool withGan);

    /// <summary>The discriminator's loss on a batch of clean data (the official hinge loss for <see cref="CtmLoss"/>).</summary>
    /// <param name="x0">Clean data [B, …] (the reals; borrowed).</param>
    /// <param name="labels">Class ids [B] or null.</param>
    /// <param name="generator">Source of every random draw.</param>
    /// <exception cref="System.InvalidOperationException"><see cref="Discriminator"/> is null.</exception>
    CtmLossResult DiscriminatorLoss(Tensor x0, Tensor? labels, Generator generator);
}
