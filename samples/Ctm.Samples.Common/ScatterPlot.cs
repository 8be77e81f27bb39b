using System;
using System.Collections.Generic;
using System.IO;
using SkiaSharp;

namespace Ctm.Samples;

/// <summary>Writes panels of 2-D scatter plots to one PNG (SkiaSharp). Shared by the sample projects.</summary>
public static class ScatterPlot
{
    /// <summary>One panel: a title and points (x, y pairs), optionally polylines (trajectories).</summary>
    public sealed record Panel(string Title, float[] Points, IReadOnlyList<float[]>? Lines = null);

    /// <summary>Renders the panels in a grid with <paramref name="columns"/> columns over [−extent, extent]².</summary>
    public static void Write(string path, IReadOnlyList<Panel> panels, int columns, double extent = 2.0, int cell = 320)
    {
        int rows = (panels.Count + columns - 1) / columns;
        using var surface = SKSurface.Create(new SKImageInfo(columns * cell, rows * cell));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var axis = new SKPaint { Color = new SKColor(200, 200, 200), StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var dot = new SKPaint { Color = new SKColor(31, 119, 180, 90), IsAntialias = true };
        using var line = new SKPaint { Color = new SKColor(214, 39, 40, 160), StrokeWidth = 1.2f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var text = new SKPaint { Color = SKColors.Black, TextSize = 15, IsAntialias = true, Typeface = SKTypeface.Default };
        for (int p = 0; p < panels.Count; p++)
        {
            float ox = (p % columns) * cell, oy = (p / columns) * cell;
            float Map(double v) => (float)((v + extent) / (2 * extent) * (cell - 20) + 10);
            canvas.DrawRect(ox + 1, oy + 1, cell - 2, cell - 2, axis);
            canvas.DrawLine(ox + Map(0), oy + 10, ox + Map(0), oy + cell - 10, axis);
            canvas.DrawLine(ox + 10, oy + Map(0), ox + cell - 10, oy + Map(0), axis);
            var pts = panels[p].Points;
            for (int i = 0; i + 1 < pts.Length; i += 2)
                canvas.DrawCircle(ox + Map(pts[i]), oy + Map(-pts[i + 1]), 1.6f, dot);
            if (panels[p].Lines is { } lines)
                foreach (var l in lines)
                {
                    using var poly = new SKPath();
                    for (int i = 0; i + 1 < l.Length; i += 2)
                    {
                        float x = ox + Map(Math.Clamp(l[i], -extent, extent)), y = oy + Map(-Math.Clamp(l[i + 1], -extent, extent));
                        if (i == 0) poly.MoveTo(x, y); else poly.LineTo(x, y);
                    }
                    canvas.DrawPath(poly, line);
                }
            canvas.DrawText(panels[p].Title, ox + 12, oy + 22, text);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
