using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace Ctm.Samples.Mnist;

/// <summary>The MNIST results table (Markdown) and its targets, shared by the sample and the benchmark.</summary>
public static class MnistReporting
{
    /// <summary>One line per sampler plus the real-vs-real floor: FD, its ratio to the teacher's Heun 35, the k-NN scores.</summary>
    public static string Table(IReadOnlyList<MnistRow> rows, MnistPipeline pipeline)
    {
        double heun = rows.First(r => r.Nfe == 35 && r.Sampler.StartsWith("teacher", StringComparison.Ordinal)).Fd;
        var t = new StringBuilder();
        t.AppendLine("| sampler | NFE | FD | FD / teacher Heun 35 | precision | recall | density | coverage | class accuracy | time (s) | grid |");
        t.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            var m = r.Manifold;
            t.AppendLine($"| {r.Sampler} | {r.Nfe} | {r.Fd:F3} | {r.Fd / heun:F2} | {m.Precision:F3} | {m.Recall:F3} | {m.Density:F3} | {m.Coverage:F3} | " +
                $"{(double.IsNaN(r.ClassAccuracy) ? "-" : r.ClassAccuracy.ToString("P1"))} | {r.Seconds:F1} | {Path.GetFileName(r.Grid)} |");
        }
        var d = pipeline.DataManifold;
        t.AppendLine($"| data (train vs held-out digits) | - | {pipeline.DataFd:F3} | {pipeline.DataFd / heun:F2} | {d.Precision:F3} | {d.Recall:F3} | " +
            $"{d.Density:F3} | {d.Coverage:F3} | - | - | data.png |");
        return t.ToString();
    }

    /// <summary>
    /// FD(CTM NFE 1) ≤ 1.5 × FD(teacher Heun 35), FD(NFE 2) ≤ 1.2 ×, and CTM NFE 1 precision and recall each within 0.05
    /// of the teacher's Heun 35 (a CTM better than its teacher by more than 0.05 passes too).
    /// </summary>
    public static List<(bool Pass, string Text)> Targets(IReadOnlyList<MnistRow> rows)
    {
        var heun = rows.First(r => r.Nfe == 35 && r.Sampler.StartsWith("teacher", StringComparison.Ordinal));
        var nfe1 = rows.First(r => r.Nfe == 1 && r.Sampler.StartsWith("CTM", StringComparison.Ordinal));
        var nfe2 = rows.First(r => r.Nfe == 2 && r.Sampler.StartsWith("CTM", StringComparison.Ordinal));
        var list = new List<(bool, string)>();
        foreach (var (r, limit) in new[] { (nfe1, 1.5), (nfe2, 1.2) })
            list.Add((r.Fd <= limit * heun.Fd, $"CTM NFE {r.Nfe}: FD {r.Fd:F3} = {r.Fd / heun.Fd:F2} × teacher Heun 35 ({heun.Fd:F3}); target ≤ {limit:F1} ×"));
        double dp = nfe1.Manifold.Precision - heun.Manifold.Precision, dr = nfe1.Manifold.Recall - heun.Manifold.Recall;
        list.Add((dp >= -0.05, $"CTM NFE 1 precision {nfe1.Manifold.Precision:F3} ≥ teacher Heun 35's {heun.Manifold.Precision:F3} − 0.05 (Δ {dp:+0.000;-0.000})"));
        list.Add((dr >= -0.05, $"CTM NFE 1 recall {nfe1.Manifold.Recall:F3} ≥ teacher Heun 35's {heun.Manifold.Recall:F3} − 0.05 (Δ {dr:+0.000;-0.000})"));
        return list;
    }
}
