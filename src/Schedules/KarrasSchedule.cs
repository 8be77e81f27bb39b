using System;

namespace Ctm.Core.Schedules;

/// <summary>
/// The Karras et al. (2022) ρ-schedule of noise levels, in plain <see cref="double"/> arithmetic (no libtorch).
/// </summary>
/// <remarks>
/// σ_i = (σ_max^{1/ρ} + i/(N−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ for i = 0..N−1, from σ_max down to σ_min.
/// This is both the CTM training grid (<c>KarrasDenoiser.get_t</c>, N = 18 on CIFAR-10) and the γ-sampling grid
/// (<c>get_sigmas_karras(n+1, …)</c>). The end points are returned exactly (σ_0 = σ_max, σ_{N−1} = σ_min) so that
/// range checks downstream never trip on rounding.
/// </remarks>
public static class KarrasSchedule
{
    /// <summary>The EDM/CTM default σ_min = 0.002.</summary>
    public const double DefaultSigmaMin = 0.002;

    /// <summary>The EDM/CTM default σ_max = 80.</summary>
    public const double DefaultSigmaMax = 80.0;

    /// <summary>The EDM/CTM default ρ = 7.</summary>
    public const double DefaultRho = 7.0;

    /// <summary>The noise level at <paramref name="fraction"/> ∈ [0, 1] of the way from σ_max (0) to σ_min (1).</summary>
    /// <param name="fraction">Position on the schedule: 0 gives σ_max, 1 gives σ_min.</param>
    /// <param name="sigmaMin">σ_min &gt; 0.</param>
    /// <param name="sigmaMax">σ_max &gt; σ_min.</param>
    /// <param name="rho">ρ &gt; 0 (7 in EDM and CTM).</param>
    public static double Sigma(double fraction, double sigmaMin = DefaultSigmaMin, double sigmaMax = DefaultSigmaMax, double rho = DefaultRho)
    {
        CheckRange(sigmaMin, sigmaMax, rho);
        if (!(fraction >= 0.0 && fraction <= 1.0))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "fraction must lie in [0, 1] (0 = σ_max, 1 = σ_min).");
        if (fraction == 0.0) return sigmaMax;
        if (fraction == 1.0) return sigmaMin;
        double maxInvRho = Math.Pow(sigmaMax, 1.0 / rho), minInvRho = Math.Pow(sigmaMin, 1.0 / rho);
        return Math.Pow(maxInvRho + fraction * (minInvRho - maxInvRho), rho);
    }

    /// <summary>
    /// <paramref name="count"/> Karras points from σ_max down to σ_min (the official <c>get_sigmas_karras</c> without
    /// its trailing zero).
    /// </summary>
    /// <param name="count">Number of points N ≥ 2.</param>
    /// <param name="sigmaMin">σ_min &gt; 0.</param>
    /// <param name="sigmaMax">σ_max &gt; σ_min.</param>
    /// <param name="rho">ρ &gt; 0.</param>
    /// <returns>A new, strictly descending array of length N.</returns>
    public static double[] Sigmas(int count, double sigmaMin = DefaultSigmaMin, double sigmaMax = DefaultSigmaMax, double rho = DefaultRho)
    {
        if (count < 2 || count > MaxSteps + 1)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A Karras grid needs at least 2 points (σ_max and σ_min) and at most {MaxSteps + 1}.");
        CheckRange(sigmaMin, sigmaMax, rho);
        var sigmas = new double[count];
        for (int i = 0; i < count; i++) sigmas[i] = Sigma(i / (double)(count - 1), sigmaMin, sigmaMax, rho);
        return sigmas;
    }

    /// <summary>
    /// The CTM γ-sampling grid for <paramref name="nfe"/> network evaluations: nfe + 1 Karras points from σ_max to σ_min
    /// (official <c>karras_sample</c>). NFE 2 → [80, 2.5152, 0.002]; NFE 3 → [80, 9.723, 0.470, 0.002].
    /// </summary>
    /// <param name="nfe">Number of jumps (network evaluations), ≥ 1.</param>
    /// <param name="sigmaMin">σ_min &gt; 0.</param>
    /// <param name="sigmaMax">σ_max &gt; σ_min.</param>
    /// <param name="rho">ρ &gt; 0.</param>
    public static double[] SamplingGrid(int nfe, double sigmaMin = DefaultSigmaMin, double sigmaMax = DefaultSigmaMax, double rho = DefaultRho)
    {
        if (nfe < 1 || nfe > MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(nfe), nfe, $"steps (NFE) must lie in [1, {MaxSteps}]: 1 is one jump from σ_max to σ_min.");
        return Sigmas(nfe + 1, sigmaMin, sigmaMax, rho);
    }

    /// <summary>
    /// EDM's sampling grid (Karras et al. Algorithm 1) for <paramref name="numSteps"/> solver steps: numSteps Karras points
    /// followed by 0, so a Heun solve costs 2·numSteps − 1 evaluations (the last step is Euler). numSteps = 18 gives the
    /// 35-NFE teacher; numSteps = 1 is the single Euler step [σ_max, 0].
    /// </summary>
    /// <param name="numSteps">Number of solver steps (= Karras points before the final 0), ≥ 1.</param>
    /// <param name="sigmaMin">σ_min &gt; 0.</param>
    /// <param name="sigmaMax">σ_max &gt; σ_min.</param>
    /// <param name="rho">ρ &gt; 0.</param>
    public static double[] EdmGrid(int numSteps, double sigmaMin = DefaultSigmaMin, double sigmaMax = DefaultSigmaMax, double rho = DefaultRho)
    {
        if (numSteps < 1 || numSteps > MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(numSteps), numSteps, $"steps must lie in [1, {MaxSteps}] (1 is one Euler step from σ_max to 0).");
        CheckRange(sigmaMin, sigmaMax, rho);
        if (numSteps == 1) return new[] { sigmaMax, 0.0 };
        var karras = Sigmas(numSteps, sigmaMin, sigmaMax, rho);
        var grid = new double[numSteps + 1];
        Array.Copy(karras, grid, numSteps);
        return grid; // grid[numSteps] = 0
    }

    /// <summary>
    /// Checks that <paramref name="grid"/> is a usable time grid: at least two points, finite, strictly descending,
    /// starting at most at σ_max, every point but the last at least σ_min, and the last either σ_min-or-above or exactly 0.
    /// </summary>
    /// <param name="grid">The grid to check.</param>
    /// <param name="sigmaMin">σ_min of the model the grid is used with.</param>
    /// <param name="sigmaMax">σ_max of the model the grid is used with.</param>
    /// <param name="allowFinalZero">Whether the final point may be 0 (EDM's Euler-to-zero step); CTM jumps may not.</param>
    /// <param name="paramName">Argument name used in the exception.</param>
    /// <exception cref="ArgumentException">The grid breaks one of the rules; the message says which and how to fix it.</exception>
    public static void Validate(ReadOnlySpan<double> grid, double sigmaMin, double sigmaMax, bool allowFinalZero, string paramName = "timeGrid")
    {
        if (grid.Length < 2)
            throw new ArgumentException($"The time grid needs at least 2 points (got {grid.Length}); build one with KarrasSchedule.SamplingGrid(steps).", paramName);
        double tol = Tolerance;
        for (int i = 0; i < grid.Length; i++)
        {
            double v = grid[i];
            if (!double.IsFinite(v))
                throw new ArgumentException($"The time grid has a non-finite value at index {i}.", paramName);
            if (i > 0 && !(v < grid[i - 1]))
                throw new ArgumentException($"The time grid must be strictly descending (σ_max first), but grid[{i}] = {v} ≥ grid[{i - 1}] = {grid[i - 1]}.", paramName);
            bool last = i == grid.Length - 1;
            if (last && allowFinalZero && v == 0.0) continue;
            if (v < sigmaMin * (1 - tol))
                throw new ArgumentException($"grid[{i}] = {v} is below σ_min = {sigmaMin}; the model is only defined on [σ_min, σ_max]" +
                    (allowFinalZero ? " (a final 0 is allowed here)." : "."), paramName);
        }
        if (grid[0] > sigmaMax * (1 + tol))
            throw new ArgumentException($"grid[0] = {grid[0]} is above σ_max = {sigmaMax}; start the grid at or below σ_max.", paramName);
    }

    /// <summary>Relative tolerance used by range checks on times (absorbs rounding of grid arithmetic).</summary>
    public const double Tolerance = 1e-6;

    /// <summary>The most steps (grid intervals) a grid may have: far beyond any useful sampler, small enough that a
    /// grid of doubles is never a memory hazard.</summary>
    internal const int MaxSteps = 1_000_000;

    internal static void CheckRange(double sigmaMin, double sigmaMax, double rho)
    {
        if (!(sigmaMin > 0) || !double.IsFinite(sigmaMin))
            throw new ArgumentOutOfRangeException(nameof(sigmaMin), sigmaMin, "σ_min must be a finite number > 0 (CTM uses 0.002).");
        if (!(sigmaMax > sigmaMin) || !double.IsFinite(sigmaMax))
            throw new ArgumentOutOfRangeException(nameof(sigmaMax), sigmaMax, $"σ_max must be finite and larger than σ_min = {sigmaMin} (CTM uses 80).");
        if (!(rho > 0) || !double.IsFinite(rho))
            throw new ArgumentOutOfRangeException(nameof(rho), rho, "ρ must be a finite number > 0 (CTM uses 7).");
    }
}
