namespace Ctm.Core;

/// <summary>
/// Progress of a sampling or solving run, reported after each step. Holds no tensors (reports may arrive late or on
/// another thread when the host uses <see cref="System.Progress{T}"/>).
/// </summary>
/// <param name="Step">Jumps (γ-sampling) or solver steps (ODE sampling) completed so far (1-based after the first).</param>
/// <param name="TotalSteps">Jumps or solver steps in the run (the <c>steps</c> argument).</param>
/// <param name="T">Time the step started from.</param>
/// <param name="S">Time the step ended at.</param>
/// <param name="Evaluations">Network evaluations used so far (NFE).</param>
public readonly record struct SamplingProgress(int Step, int TotalSteps, double T, double S, int Evaluations);
