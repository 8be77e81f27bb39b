namespace Ctm.Core.Training;

/// <summary>Progress of an EDM teacher training run, reported after each iteration. Numbers only, no tensors.</summary>
/// <param name="Step">Iterations completed in this run.</param>
/// <param name="TotalSteps">Iterations planned for this run.</param>
/// <param name="Loss">The iteration's mean EDM loss λ(σ)·‖D(x_σ, σ) − x_0‖².</param>
public readonly record struct EdmTrainingProgress(long Step, long TotalSteps, double Loss);
