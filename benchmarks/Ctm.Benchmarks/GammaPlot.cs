using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ScottPlot;

namespace Ctm.Benchmarks;

/// <summary>
/// FD against NFE, both axes logarithmic (FD spans the data floor ~4 to the thousands of a 3-NFE Heun, which would flatten
/// every CTM line on a linear axis), one line per sampler (ScottPlot), with the real-data floor as a dashed line.
/// </summary>
public static class GammaPlot
{
    public static void Write(string path, IReadOnlyList<(string Name, (double Nfe, double Fd)[] Points)> lines,
        (string Name, (double Nfe, double Fd)[] Points) reference, double floor)
    {
        var plt = new Plot();
        foreach (var (name, points) in lines)
        {
            var s = plt.Add.Scatter(points.Select(p => Math.Log10(p.Nfe)).ToArray(), points.Select(p => Math.Log10(p.Fd)).ToArray());
            s.LegendText = name;
            s.MarkerSize = 6;
        }
        var t = plt.Add.Scatter(reference.Points.Select(p => Math.Log10(p.Nfe)).ToArray(), reference.Points.Select(p => Math.Log10(p.Fd)).ToArray());
        t.LegendText = reference.Name;
        t.Color = Colors.Black;
        t.LinePattern = LinePattern.Dotted;
        t.MarkerSize = 6;
        var f = plt.Add.HorizontalLine(Math.Log10(floor));
        f.LinePattern = LinePattern.Dashed;
        f.Color = Colors.Gray;
        f.LegendText = "real digits (train vs held-out)";
        var ticks = new[] { 1, 2, 3, 4, 6, 8, 12, 20, 35 };
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(v => Math.Log10(v)).ToArray(), ticks.Select(v => v.ToString()).ToArray());
        plt.Axes.Bottom.Label.Text = "NFE (log scale)";
        var fdTicks = new[] { 2, 3, 5, 7, 10, 15, 20, 30, 50, 100, 300, 1000, 3000 };
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(fdTicks.Select(v => Math.Log10(v)).ToArray(), fdTicks.Select(v => v.ToString()).ToArray());
        plt.Axes.Left.Label.Text = "FD (classifier features, log scale)";
        plt.Title("MNIST 16×16: CTM γ-sampling vs the teacher's Heun");
        plt.ShowLegend(Alignment.UpperRight);
        var all = lines.SelectMany(l => l.Points).Concat(reference.Points).Select(p => p.Fd).Append(floor).Where(v => v > 0).ToArray();
        plt.Axes.SetLimitsY(Math.Log10(all.Min()) - 0.05, Math.Log10(all.Max()) + 0.05);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plt.SavePng(path, 900, 560);
    }
}
