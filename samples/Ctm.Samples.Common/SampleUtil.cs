using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Samples;

/// <summary>Small helpers shared by the sample programs.</summary>
public static class SampleUtil
{
    /// <summary>A tensor's values as a flat float array (row-major).</summary>
    public static float[] Floats(Tensor x)
    {
        using var f = x.to_type(ScalarType.Float32).contiguous();
        return f.data<float>().ToArray();
    }

    /// <summary>
    /// A panel of trajectories s ↦ G(x_T, σ_max, s) for <paramref name="count"/> starting points, drawn as
    /// x_s/√(1 + s²) so that every noise level fits the same axes.
    /// </summary>
    public static ScatterPlot.Panel TrajectoryPanel(ITrajectoryModel model, string title, int count = 16, ulong seed = 7)
    {
        using var noGrad = no_grad();
        using var g = new Generator(seed);
        using var xT = randn(new long[] { count, 2 }, dtype: model.DType, generator: g) * model.SigmaMax;
        var paths = Enumerable.Range(0, count).Select(_ => new List<float>()).ToArray();
        foreach (var s in Ctm.Core.Schedules.KarrasSchedule.Sigmas(40, model.SigmaMin, model.SigmaMax))
        {
            using var xs = model.Jump(xT, model.SigmaMax, s);
            using var scaled = xs / Math.Sqrt(1 + s * s);
            var f = Floats(scaled);
            for (int i = 0; i < count; i++) paths[i].AddRange(new[] { f[2 * i], f[2 * i + 1] });
        }
        return new ScatterPlot.Panel(title, Array.Empty<float>(), paths.Select(p => p.ToArray()).ToList());
    }
}
