using System;
using System.Collections.Generic;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Solvers;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Algorithm 2; k-diffusion <c>sample_dpmpp_2m</c>): the second-order
/// multistep solver in the data-prediction form, on the probability-flow ODE of any <see cref="IDenoiser"/> — for a CTM
/// model, its diagonal g(x, σ, σ).
/// </summary>
/// <remarks>
/// <para>With λ = −ln σ, h_i = λ_{i+1} − λ_i = ln(σ_i/σ_{i+1}) and D_i = D(x_i, σ_i), a step is
/// x_{i+1} = (σ_{i+1}/σ_i)·x_i + (1 − σ_{i+1}/σ_i)·D̂_i, with D̂_i = (1 + 1/(2r))·D_i − 1/(2r)·D_{i−1}, r = h_{i−1}/h_i,
/// and D̂ = D_i on the first step and on a final step to σ = 0 (first order there, as in the paper).</para>
/// <para>One denoiser evaluation per step; global error O(h²). <see cref="Step"/> alone has no history, so it is the
/// first-order update (DPM-Solver++(1), which for this ODE equals Euler); <see cref="Solve"/> uses the multistep rule.</para>
/// </remarks>
public sealed class DpmSolverPlusPlus2M : OdeSolverBase
{
    /// <summary>A shared instance (the solver is stateless: the history lives inside one <see cref="Solve"/> call).</summary>
    public static DpmSolverPlusPlus2M Instance { get; } = new();

    /// <inheritdoc />
    public override int EvaluationsPerStep => 1;

    /// <summary>One first-order step (no history): x' = (σ'/σ)·x + (1 − σ'/σ)·D(x, σ).</summary>
    /// <inheritdoc />
    public override Tensor Step(IDenoiser denoiser, Tensor x, Tensor tCur, Tensor tNext, Tensor? labels = null)
    {
        CheckStepArguments(denoiser, x, tCur, tNext);
        using var scope = NewDisposeScope();
        var ratio = TimeBroadcast.ToBatch(tNext, x) / TimeBroadcast.ToBatch(tCur, x);
        var d = denoiser.Denoise(x, tCur, labels);
        return (ratio * x + (1 - ratio) * d).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor Solve(IDenoiser denoiser, Tensor x, IReadOnlyList<double> timeGrid, Tensor? labels = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var sigma = CheckSolveArguments(denoiser, x, timeGrid, labels);
        var cur = x.alias();
        Tensor? previous = null;   // D_{i−1}
        double hPrevious = 0;
        try
        {
            for (int i = 0; i < sigma.Length - 1; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double s = sigma[i], sNext = sigma[i + 1];
                using (var scope = NewDisposeScope())
                {
                    var d = denoiser.Denoise(cur, tensor(s, dtype: x.dtype, device: x.device), labels);   // 1. D_i
                    var dHat = d;
                    if (previous is not null && sNext > 0)
                    {
                        double r = hPrevious / Math.Log(s / sNext);                                      // 2. r = h_{i−1}/h_i
                        dHat = (1 + 1 / (2 * r)) * d - 1 / (2 * r) * previous;                            // 3. second-order D̂
                    }
                    double ratio = sNext / s;
                    var next = (ratio * cur + (1 - ratio) * dHat).MoveToOuterDisposeScope();              // 4. exponential-integrator step
                    d.MoveToOuterDisposeScope();
                    cur.Dispose();
                    previous?.Dispose();
                    cur = next;
                    previous = d;
                }
                if (sNext > 0) hPrevious = Math.Log(s / sNext);
                progress?.Report(new SamplingProgress(i + 1, sigma.Length - 1, s, sNext, i + 1));
            }
        }
        catch
        {
            cur.Dispose();
            throw;
        }
        finally
        {
            previous?.Dispose();
        }
        return cur;
    }
}
