namespace Ctm.Core;

/// <summary>
/// Progress of a sampling or solving run, reported after each step. Holds no tensors (reports may arrive late or on
/// another thread when the host uses <see cref="System.Progress{T}"/>).
/// </summary>
/// <param name="Step">Steps completed so far (1-based after the first step).</param>
/// <param name="TotalSteps">Steps in the run.</param>
/// <param name="T">Time the step started from.</param>
/// <param name="S">Time the step ended at.</param>
/// <param name="Evaluations">Network evaluations used so far.</param>
public readonly record struct SamplingProgress(int Step, int TotalSteps, double T, double S, int Evaluations);
