namespace Ctm.Core.Training;

/// <summary>Progress of a CTM training run, reported after each iteration. Numbers only, no tensors.</summary>
/// <param name="Step">Iterations completed in this run.</param>
/// <param name="TotalSteps">Iterations planned for this run.</param>
/// <param name="Loss">The iteration's loss breakdown (only the terms it computed).</param>
/// <param name="DiscriminatorStep">Whether the iteration updated the discriminator (otherwise the generator).</param>
public readonly record struct CtmTrainingProgress(long Step, long TotalSteps, CtmLossBreakdown Loss, bool DiscriminatorStep);
