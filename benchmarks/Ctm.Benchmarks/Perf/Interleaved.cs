using System;
using System.Collections.Generic;
using System.Linq;

namespace Ctm.Benchmarks.Perf;

/// <summary>
/// Side-by-side ratios on a shared machine: the actions run in alternating order, round after round, each timed in
/// process CPU time, and the ratio is the median over rounds of (action / baseline) within the round — so a change
/// of the machine's load between rounds cancels instead of landing on one side.
/// </summary>
internal static class Interleaved
{
    /// <summary>Per-round CPU seconds of each action, after <paramref name="warmup"/> untimed rounds.</summary>
    public static double[][] Measure(IReadOnlyList<Action> actions, int rounds, int warmup = 2)
    {
        var t = actions.Select(_ => new double[rounds]).ToArray();
        for (int r = -warmup; r < rounds; r++)
        {
            for (int j = 0; j < actions.Count; j++)
            {
                int i = (r & 1) == 0 ? j : actions.Count - 1 - j; // A B C, C B A, …
                double t0 = ProcessCpuClock.Seconds();
                actions[i]();
                PerfEnvironment.Sync();
                double dt = ProcessCpuClock.Seconds() - t0;
                if (r >= 0) t[i][r] = dt;
            }
        }
        return t;
    }

    /// <summary>Median over rounds of a[r] / b[r].</summary>
    public static double MedianRatio(double[] a, double[] b) => Median(a.Zip(b, (x, y) => x / y).ToArray());

    public static double Median(double[] v)
    {
        var s = v.OrderBy(x => x).ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    /// <summary>Rounds so that one round costs about <paramref name="budgetSeconds"/>/rounds, clamped.</summary>
    public static int Rounds(double secondsPerRound, double budgetSeconds, int min, int max)
        => Math.Clamp((int)(budgetSeconds / Math.Max(1e-6, secondsPerRound)), min, max);
}
