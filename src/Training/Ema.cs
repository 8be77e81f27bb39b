using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>Exponential moving averages of network weights (CTM target θ⁻ and evaluation EMAs).</summary>
/// <remarks>TorchSharp has no AveragedModel, so the average is a second network of the same architecture.</remarks>
public static class Ema
{
    /// <summary>θ_avg ← μ·θ_avg + (1 − μ)·θ for every parameter; buffers are copied. Under no_grad, in place.</summary>
    /// <param name="average">The averaged network (updated).</param>
    /// <param name="source">The trained network (read).</param>
    /// <param name="mu">μ ∈ [0, 1).</param>
    public static void Update(nn.Module average, nn.Module source, double mu)
    {
        if (average is null) throw new ArgumentNullException(nameof(average));
        if (source is null) throw new ArgumentNullException(nameof(source));
        if (!(mu >= 0 && mu < 1)) throw new ArgumentOutOfRangeException(nameof(mu), mu, "μ must lie in [0, 1).");
        using var noGrad = no_grad();
        var avg = average.named_parameters().ToList();
        var src = source.named_parameters().ToList();
        CheckSameShape(avg.Select(p => (p.name, p.parameter.shape)).ToList(), src.Select(p => (p.name, p.parameter.shape)).ToList());
        for (int i = 0; i < avg.Count; i++)
            avg[i].parameter.mul_(mu).add_(src[i].parameter, alpha: 1 - mu);
        CopyBuffers(average, source);
    }

    /// <summary>Copies every parameter and buffer of <paramref name="source"/> into <paramref name="destination"/>.</summary>
    /// <param name="destination">Network written to.</param>
    /// <param name="source">Network read from.</param>
    public static void Copy(nn.Module destination, nn.Module source)
    {
        if (destination is null) throw new ArgumentNullException(nameof(destination));
        if (source is null) throw new ArgumentNullException(nameof(source));
        using var noGrad = no_grad();
        var dst = destination.named_parameters().ToList();
        var src = source.named_parameters().ToList();
        CheckSameShape(dst.Select(p => (p.name, p.parameter.shape)).ToList(), src.Select(p => (p.name, p.parameter.shape)).ToList());
        for (int i = 0; i < dst.Count; i++) dst[i].parameter.copy_(src[i].parameter);
        CopyBuffers(destination, source);
    }

    private static void CopyBuffers(nn.Module destination, nn.Module source)
    {
        var dst = destination.named_buffers().ToList();
        var src = source.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, buffer) in dst)
            if (src.TryGetValue(name, out var s) && s.shape.SequenceEqual(buffer.shape)) buffer.copy_(s);
    }

    private static void CheckSameShape(System.Collections.Generic.List<(string name, long[] shape)> a, System.Collections.Generic.List<(string name, long[] shape)> b)
    {
        if (a.Count != b.Count)
            throw new ArgumentException($"The two networks differ: {a.Count} vs {b.Count} parameters. An EMA needs a second instance of the same architecture.");
        for (int i = 0; i < a.Count; i++)
            if (a[i].name != b[i].name || !a[i].shape.SequenceEqual(b[i].shape))
                throw new ArgumentException($"Parameter {i} differs: '{a[i].name}' [{string.Join(",", a[i].shape)}] vs '{b[i].name}' [{string.Join(",", b[i].shape)}].");
    }
}
