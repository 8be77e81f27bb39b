using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ScottPlot;

namespace Ctm.Benchmarks;

/// <summary>FD against NFE on a log axis, one line per sampler (ScottPlot), with the real-data floor as a dashed line.</summary>
public static class GammaPlot
{
    public static void Write(string path, IReadOnlyList<(string Name, (double Nfe, double Fd)[] Points)> lines,
        (string Name, (double Nfe, double Fd)[] Points) reference, double floor)
    {
        var plt = new Plot();
        foreach (var (name, points) in lines)
        {
            var s = plt.Add.Scatter(points.Select(p => Math.Log10(p.Nfe)).ToArray(), points.Select(p => p.Fd).ToArray());
            s.LegendText = name;
            s.MarkerSize = 6;
        }
        var t = plt.Add.Scatter(reference.Points.Select(p => Math.Log10(p.Nfe)).ToArray(), reference.Points.Select(p => p.Fd).ToArray());
        t.LegendText = reference.Name;
        t.Color = Colors.Black;
        t.LinePattern = LinePattern.Dotted;
        t.MarkerSize = 6;
        var f = plt.Add.HorizontalLine(floor);
        f.LinePattern = LinePattern.Dashed;
        f.Color = Colors.Gray;
        f.LegendText = "real digits (train vs held-out)";
        var ticks = new[] { 1, 2, 3, 4, 6, 8, 12, 20, 35 };
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(v => Math.Log10(v)).ToArray(), ticks.Select(v => v.ToString()).ToArray());
        plt.Axes.Bottom.Label.Text = "NFE (log scale)";
        plt.Axes.Left.Label.Text = "FD (classifier features)";
        plt.Title("MNIST 16×16: CTM γ-sampling vs the teacher's Heun");
        plt.ShowLegend(Alignment.UpperRight);
        plt.Axes.SetLimitsY(0, Math.Max(1, lines.SelectMany(l => l.Points).Concat(reference.Points).Max(p => p.Fd) * 1.05));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plt.SavePng(path, 900, 560);
    }
}
