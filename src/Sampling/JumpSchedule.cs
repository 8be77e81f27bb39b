using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Schedules;

namespace Ctm.Core.Sampling;

/// <summary>
/// A CTM sampling schedule as data: jump n goes from time t_n down to s_n with G, and the state is then re-noised up to
/// t_{n+1} (std √(t_{n+1}² − s_n²)); the result is the state at the last s. Every CTM sampler is one of these:
/// γ-sampling (Kim et al. 2024, Algorithm 1), the official "exact" jumps through chosen times, CM multistep (γ = 1)
/// and the official two-jump <c>sample_gamma</c> recipe that re-noises above the first jump's target.
/// </summary>
/// <remarks>A schedule is built for one model and reads its schedule from it (σ_min, σ_max and, for
/// <see cref="GridIndices"/>, ρ), like every sampler. Validated on construction: σ_min ≤ s_n ≤ t_n ≤ σ_max and
/// s_n ≤ t_{n+1} (re-noising only adds noise). Run a schedule with <see cref="JumpScheduleSampler"/>.</remarks>
public sealed class JumpSchedule
{
    private readonly double[] _from, _to;

    /// <summary>Creates a schedule for <paramref name="model"/> from its jump start times t_n and targets s_n.</summary>
    /// <param name="model">The model the schedule is for: its [σ_min, σ_max] bounds every time.</param>
    /// <param name="from">t_0 … t_{N−1}: where each jump starts (t_0 is where x_T lives).</param>
    /// <param name="to">s_0 … s_{N−1}: where each jump lands; s_{N−1} is the output time (normally σ_min).</param>
    /// <exception cref="ArgumentException">A time is out of range, a jump goes forward in time, or re-noising would have to remove noise.</exception>
    public JumpSchedule(ITrajectoryModel model, IReadOnlyList<double> from, IReadOnlyList<double> to)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        if (from is null) throw new ArgumentNullException(nameof(from));
        if (to is null) throw new ArgumentNullException(nameof(to));
        double sigmaMin = model.SigmaMin, sigmaMax = model.SigmaMax;
        if (from.Count == 0 || from.Count != to.Count)
            throw new ArgumentException($"A schedule needs one target per jump and at least one jump; got {from.Count} starts and {to.Count} targets.", nameof(to));
        double lo = sigmaMin * (1 - KarrasSchedule.Tolerance), hi = sigmaMax * (1 + KarrasSchedule.Tolerance);
        for (int n = 0; n < from.Count; n++)
        {
            double t = from[n], s = to[n];
            if (!(t >= lo && t <= hi)) throw new ArgumentException($"from[{n}] = {t} is outside [σ_min, σ_max] = [{sigmaMin}, {sigmaMax}].", nameof(from));
            if (!(s >= lo && s <= hi)) throw new ArgumentException($"to[{n}] = {s} is outside [σ_min, σ_max] = [{sigmaMin}, {sigmaMax}].", nameof(to));
            if (s > t * (1 + KarrasSchedule.Tolerance))
                throw new ArgumentException($"Jump {n} goes from t = {t} to s = {s} > t; a CTM jump only goes back in time (s ≤ t).", nameof(to));
            if (n + 1 < from.Count && s > from[n + 1] * (1 + KarrasSchedule.Tolerance))
                throw new ArgumentException($"Jump {n} lands at s = {s} but jump {n + 1} starts at {from[n + 1]} < s; re-noising can only add noise, so each start must be ≥ the previous target.", nameof(from));
        }
        _from = from.ToArray();
        _to = to.ToArray();
        SigmaMin = sigmaMin;
        SigmaMax = sigmaMax;
    }

    /// <summary>t_n: where each jump starts.</summary>
    public IReadOnlyList<double> From => _from;

    /// <summary>s_n: where each jump lands.</summary>
    public IReadOnlyList<double> To => _to;

    /// <summary>Number of jumps (= network evaluations).</summary>
    public int Jumps => _from.Length;

    /// <summary>σ_min of the model the schedule was built for.</summary>
    public double SigmaMin { get; }

    /// <summary>σ_max of the model the schedule was built for.</summary>
    public double SigmaMax { get; }

    /// <summary>
    /// γ-sampling on a time grid t_0 &gt; … &gt; t_N (Algorithm 1; official <c>sample_exact</c> for γ = 0,
    /// <c>sample_gamma_multistep</c>, <c>sample_multistep</c> for γ = 1): s_n = √(1−γ²)(t_{n+1} − σ_min) + σ_min, and the
    /// last jump lands exactly on t_N (no noise after it).
    /// </summary>
    /// <param name="model">The model the schedule is for (its σ_min and σ_max).</param>
    /// <param name="timeGrid">Strictly descending times within [σ_min, σ_max], e.g. the model's
    /// <c>KarrasSchedule.SamplingGrid(steps, model.SigmaMin, model.SigmaMax, model.Rho)</c>.</param>
    /// <param name="gamma">γ ∈ [0, 1].</param>
    public static JumpSchedule Gamma(ITrajectoryModel model, IReadOnlyList<double> timeGrid, double gamma)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        if (timeGrid is null) throw new ArgumentNullException(nameof(timeGrid));
        double sigmaMin = model.SigmaMin, sigmaMax = model.SigmaMax;
        if (!(gamma >= 0.0 && gamma <= 1.0))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must lie in [0, 1]: 0 = deterministic jumps, 1 = CM multistep.");
        var t = timeGrid.ToArray();
        KarrasSchedule.Validate(t, sigmaMin, sigmaMax, allowFinalZero: false, nameof(timeGrid));
        int jumps = t.Length - 1;
        var to = new double[jumps];
        for (int n = 0; n < jumps; n++)
            to[n] = n == jumps - 1 || gamma == 0.0 ? t[n + 1]
                  : gamma == 1.0 ? sigmaMin
                  : Math.Sqrt(1 - gamma * gamma) * (t[n + 1] - sigmaMin) + sigmaMin;
        return new JumpSchedule(model, t.Take(jumps).ToArray(), to);
    }

    /// <summary>
    /// The official "exact" sampler with chosen grid indices (<c>--sampler exact --ts i_0,…,i_N</c>): deterministic jumps
    /// through the points i_0 &lt; … &lt; i_N of the <paramref name="gridPoints"/>-point Karras training grid of the
    /// model's schedule (σ_min, σ_max, ρ) (ImageNet-64: 40 points, e.g. indices 0, 20, 39 = NFE 2 through t_20).
    /// </summary>
    /// <param name="model">The model the schedule is for (its σ_min, σ_max and ρ).</param>
    /// <param name="indices">Increasing indices into the grid (0 = σ_max, gridPoints − 1 = σ_min).</param>
    /// <param name="gridPoints">Points N of the grid (official <c>steps</c>).</param>
    public static JumpSchedule GridIndices(ITrajectoryModel model, IReadOnlyList<int> indices, int gridPoints)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        if (indices is null) throw new ArgumentNullException(nameof(indices));
        if (indices.Count < 2) throw new ArgumentException("Give at least two indices (start and end of one jump).", nameof(indices));
        var grid = KarrasSchedule.Sigmas(gridPoints, model.SigmaMin, model.SigmaMax, model.Rho);
        for (int i = 0; i < indices.Count; i++)
        {
            if (indices[i] < 0 || indices[i] >= gridPoints)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Grid indices must lie in [0, {gridPoints - 1}].");
            if (i > 0 && indices[i] <= indices[i - 1])
                throw new ArgumentException($"Grid indices must increase (later index = lower noise); got {indices[i - 1]} then {indices[i]}.", nameof(indices));
        }
        return Gamma(model, indices.Select(i => grid[i]).ToArray(), 0.0);
    }

    /// <summary>
    /// The official two-jump recipe (<c>sample_gamma</c> with <c>ind_1</c>, <c>ind_2</c>): jump σ_max → t₁, re-noise up to
    /// t₂ ≥ t₁, jump t₂ → σ_min. t₂ = t₁ is the exact NFE-2 sampler through t₁.
    /// </summary>
    /// <param name="model">The model the schedule is for (its σ_min and σ_max).</param>
    /// <param name="t1">Target of the first jump.</param>
    /// <param name="t2">Noise level to re-noise to, t₁ ≤ t₂ ≤ σ_max.</param>
    public static JumpSchedule RenoisedTwoJumps(ITrajectoryModel model, double t1, double t2)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        return new(model, new[] { model.SigmaMax, t2 }, new[] { t1, model.SigmaMin });
    }

    /// <summary>A readable form, e.g. "80 → 2.515 ↑ 2.515 → 0.002".</summary>
    public override string ToString() =>
        string.Join(" ", Enumerable.Range(0, Jumps).Select(n => (n > 0 ? $"↑ {_from[n]:G4} " : $"{_from[n]:G4} ") + $"→ {_to[n]:G4}"));
}
