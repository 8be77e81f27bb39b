using System;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Likelihood;

/// <summary>Tolerances and limits of the adaptive Dormand–Prince (RK45) integrator used by <see cref="ProbabilityFlowLikelihood"/>.</summary>
public sealed record OdeTolerances
{
    /// <summary>Relative tolerance (scipy <c>rtol</c>).</summary>
    public double RelativeTolerance { get; init; } = 1e-5;

    /// <summary>Absolute tolerance (scipy <c>atol</c>).</summary>
    public double AbsoluteTolerance { get; init; } = 1e-5;

    /// <summary>Step budget; exceeding it throws (the ODE is too stiff for the tolerances, or the model diverges).</summary>
    public int MaxSteps { get; init; } = 10_000;

    /// <summary>Throws <see cref="ArgumentException"/> for invalid settings.</summary>
    public void Validate()
    {
        if (!(RelativeTolerance > 0) || !(AbsoluteTolerance > 0))
            throw new ArgumentException($"Tolerances must be > 0 (got rtol {RelativeTolerance}, atol {AbsoluteTolerance}); try 1e-5.");
        if (MaxSteps < 1) throw new ArgumentException($"MaxSteps must be ≥ 1, got {MaxSteps}.");
    }
}

/// <summary>Work done by one adaptive integration.</summary>
/// <param name="Evaluations">Right-hand-side evaluations (NFE).</param>
/// <param name="AcceptedSteps">Accepted steps.</param>
/// <param name="RejectedSteps">Rejected steps.</param>
public readonly record struct OdeStats(int Evaluations, int AcceptedSteps, int RejectedSteps);

/// <summary>
/// The Dormand–Prince 5(4) embedded Runge–Kutta method (scipy <c>RK45</c>, torchdiffeq <c>dopri5</c>): fifth-order
/// solution, fourth-order error estimate, FSAL, step control err = RMS(e / (atol + rtol·max(|y|, |y_new|))) ≤ 1.
/// One step size is shared by the whole tensor state.
/// </summary>
/// <remarks>Stateless. The state tensor is borrowed; the result is a new tensor. <c>f</c> must return a new tensor
/// shaped like its input; it is called inside dispose scopes, so it may create temporaries freely.</remarks>
internal static class DormandPrince45
{
    private static readonly double[] C = { 0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1 };
    private static readonly double[][] A =
    {
        Array.Empty<double>(),
        new[] { 1.0 / 5 },
        new[] { 3.0 / 40, 9.0 / 40 },
        new[] { 44.0 / 45, -56.0 / 15, 32.0 / 9 },
        new[] { 19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729 },
        new[] { 9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656 },
        new[] { 35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84 },
    };
    // e = b₅ − b₄ (b₅ is the last row of A; b₄ the embedded fourth-order weights).
    private static readonly double[] E = { 71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40 };

    /// <summary>Integrates dy/dt = f(t, y) from t0 to t1 (either direction).</summary>
    /// <param name="f">Right-hand side.</param>
    /// <param name="y0">Initial state (borrowed).</param>
    /// <param name="t0">Start time.</param>
    /// <param name="t1">End time.</param>
    /// <param name="tolerances">Tolerances; defaults to rtol = atol = 1e-5.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>y(t1) and the work done.</returns>
    public static (Tensor Y, OdeStats Stats) Integrate(Func<double, Tensor, Tensor> f, Tensor y0, double t0, double t1,
        OdeTolerances? tolerances = null, CancellationToken cancellationToken = default)
    {
        if (f is null) throw new ArgumentNullException(nameof(f));
        if (y0 is null) throw new ArgumentNullException(nameof(y0));
        if (!double.IsFinite(t0) || !double.IsFinite(t1)) throw new ArgumentException("t0 and t1 must be finite.");
        var tol = tolerances ?? new OdeTolerances();
        tol.Validate();
        if (t0 == t1) return (y0.clone(), new OdeStats(0, 0, 0));

        double direction = Math.Sign(t1 - t0), span = Math.Abs(t1 - t0);
        int nfe = 0, accepted = 0, rejected = 0;
        Tensor y = y0.detach().clone();
        Tensor k1 = Eval(f, t0, y, ref nfe);
        double t = t0;
        double h = InitialStep(f, t0, y, k1, direction, span, tol, ref nfe);
        try
        {
            while (direction * (t1 - t) > 1e-12 * span)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (accepted + rejected >= tol.MaxSteps)
                    throw new InvalidOperationException($"Dormand–Prince needed more than {tol.MaxSteps} steps (t = {t:G6} of [{t0:G6}, {t1:G6}]); loosen the tolerances or check the model for NaN.");
                h = Math.Min(h, Math.Abs(t1 - t));
                double hs = direction * h;
                using var scope = NewDisposeScope();
                var k = new Tensor[7];
                k[0] = k1;
                for (int i = 1; i < 7; i++)
                {
                    var yi = y.clone();
                    for (int j = 0; j < i; j++) if (A[i][j] != 0) yi.add_(k[j], alpha: hs * A[i][j]);
                    k[i] = Eval(f, t + C[i] * hs, yi, ref nfe);
                }
                var yNew = y.clone();
                for (int j = 0; j < 6; j++) if (A[6][j] != 0) yNew.add_(k[j], alpha: hs * A[6][j]);
                var err = zeros_like(y);
                for (int j = 0; j < 7; j++) if (E[j] != 0) err.add_(k[j], alpha: hs * E[j]);
                var scale = maximum(y.abs(), yNew.abs()).mul_(tol.RelativeTolerance).add_(tol.AbsoluteTolerance);
                double errNorm = ErrorNorm(err / scale);
                if (!double.IsFinite(errNorm))
                    throw new InvalidOperationException($"The ODE right-hand side produced NaN or infinity at t = {t:G6}; the model diverged or the input is out of range.");
                if (errNorm <= 1)
                {
                    t += hs;
                    accepted++;
                    y.Dispose();
                    y = yNew.MoveToOuterDisposeScope();
                    var previous = k1;
                    k1 = k[6].MoveToOuterDisposeScope(); // FSAL: last stage = f(t + h, y_new)
                    previous.Dispose();
                }
                else rejected++;
                double factor = errNorm == 0 ? 10 : Math.Clamp(0.9 * Math.Pow(errNorm, -0.2), 0.2, 10);
                h *= errNorm <= 1 ? factor : Math.Min(1, factor);
            }
            k1.Dispose();
            return (y, new OdeStats(nfe, accepted, rejected));
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }

    /// <summary>
    /// RMS of the scaled error per row (batch element), then the worst row: with one step size for a whole batch,
    /// a plain RMS over everything would let a few hard samples exceed the tolerance unnoticed.
    /// </summary>
    private static double ErrorNorm(Tensor scaled)
    {
        using var scope = NewDisposeScope();
        var rows = scaled.dim() >= 2 ? scaled.reshape(scaled.shape[0], -1) : scaled.reshape(1, -1);
        return rows.square().mean(new long[] { 1 }).sqrt().max().item<double>();
    }

    private static Tensor Eval(Func<double, Tensor, Tensor> f, double t, Tensor y, ref int nfe)
    {
        nfe++;
        using var scope = NewDisposeScope();
        var dy = f(t, y);
        if (!dy.shape.AsSpan().SequenceEqual(y.shape))
            throw new InvalidOperationException($"The ODE right-hand side returned shape [{string.Join(", ", dy.shape)}] for a state of shape [{string.Join(", ", y.shape)}].");
        return dy.detach().MoveToOuterDisposeScope();
    }

    // Hairer–Nørsett–Wanner initial step (as scipy's select_initial_step).
    private static double InitialStep(Func<double, Tensor, Tensor> f, double t0, Tensor y0, Tensor f0, double direction, double span, OdeTolerances tol, ref int nfe)
    {
        using var scope = NewDisposeScope();
        var scale = y0.abs().mul(tol.RelativeTolerance).add(tol.AbsoluteTolerance);
        double d0 = (y0 / scale).square().mean().sqrt().item<double>();
        double d1 = (f0 / scale).square().mean().sqrt().item<double>();
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        h0 = Math.Min(h0, span);
        var y1 = y0 + f0 * (direction * h0);
        var f1 = Eval(f, t0 + direction * h0, y1, ref nfe);
        double d2 = ((f1 - f0) / scale).square().mean().sqrt().item<double>() / h0;
        double h1 = Math.Max(d1, d2) <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / Math.Max(d1, d2), 1.0 / 5);
        return Math.Min(Math.Min(100 * h0, h1), span);
    }
}
