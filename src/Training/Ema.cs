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
        Pairs(average, source).Update(mu);
    }

    /// <summary>
    /// The parameter and buffer pairs of two networks, matched and shape-checked once, for a loop that updates the
    /// same average every iteration (the trainers): the per-call name matching and shape checks of
    /// <see cref="Update"/> then happen at construction only.
    /// </summary>
    internal static EmaPairs Pairs(nn.Module average, nn.Module source)
    {
        var avg = average.named_parameters().ToList();
        var src = source.named_parameters().ToList();
        CheckSameShape(avg.Select(p => (p.name, p.parameter.shape)).ToList(), src.Select(p => (p.name, p.parameter.shape)).ToList(), nameof(average));
        var dstBuffers = new System.Collections.Generic.List<Tensor>();
        var srcBuffers = new System.Collections.Generic.List<Tensor>();
        var byName = source.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, buffer) in average.named_buffers())
            if (byName.TryGetValue(name, out var sb) && sb.shape.SequenceEqual(buffer.shape)) { dstBuffers.Add(buffer); srcBuffers.Add(sb); }
        return new EmaPairs(avg.Select(p => (Tensor)p.parameter).ToArray(), src.Select(p => (Tensor)p.parameter).ToArray(),
            dstBuffers.ToArray(), srcBuffers.ToArray());
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
        CheckSameShape(dst.Select(p => (p.name, p.parameter.shape)).ToList(), src.Select(p => (p.name, p.parameter.shape)).ToList(), nameof(destination));
        for (int i = 0; i < dst.Count; i++) dst[i].parameter.copy_(src[i].parameter);
        CopyBuffers(destination, source);
    }

    /// <summary>
    /// An EMA rate μ scaled to a run of <paramref name="steps"/> iterations: μ = 1 − 1/(<paramref name="windowFraction"/>·steps),
    /// so the average's time constant 1/(1 − μ) is that fraction of the run. The official 0.999 is a window of 1,000
    /// iterations, right for 100K+ iterations; in a 300-iteration run it still carries most of the initial weights.
    /// </summary>
    /// <param name="steps">Iterations of the run, ≥ 1.</param>
    /// <param name="windowFraction">Time constant as a fraction of the run, in (0, 1]; 0.05 by default (2,000 iterations → 0.99, 300 → 0.933).</param>
    /// <returns>μ ∈ [0, 1).</returns>
    public static double RateForRun(long steps, double windowFraction = 0.05)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps (the run length in iterations) must be ≥ 1.");
        if (!(windowFraction > 0 && windowFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(windowFraction), windowFraction, "windowFraction must lie in (0, 1].");
        return Math.Max(0.0, 1.0 - 1.0 / (windowFraction * steps));
    }

    private static void CopyBuffers(nn.Module destination, nn.Module source)
    {
        var dst = destination.named_buffers().ToList();
        var src = source.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, buffer) in dst)
            if (src.TryGetValue(name, out var s) && s.shape.SequenceEqual(buffer.shape)) buffer.copy_(s);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="paramName"/> when <paramref name="copy"/>
    /// is not a network of <paramref name="original"/>'s architecture (same parameter names and shapes).</summary>
    internal static void CheckSameArchitecture(nn.Module copy, nn.Module original, string paramName) =>
        CheckSameShape(copy.named_parameters().Select(p => (p.name, p.parameter.shape)).ToList(),
            original.named_parameters().Select(p => (p.name, p.parameter.shape)).ToList(), paramName);

    private static void CheckSameShape(System.Collections.Generic.List<(string name, long[] shape)> a, System.Collections.Generic.List<(string name, long[] shape)> b, string paramName)
    {
        if (a.Count != b.Count)
            throw new ArgumentException($"The two networks differ: {a.Count} vs {b.Count} parameters. An EMA needs a second instance of the same architecture.", paramName);
        for (int i = 0; i < a.Count; i++)
            if (a[i].name != b[i].name || !a[i].shape.SequenceEqual(b[i].shape))
                throw new ArgumentException($"Parameter {i} differs: '{a[i].name}' [{string.Join(",", a[i].shape)}] vs '{b[i].name}' [{string.Join(",", b[i].shape)}]. " +
                    "Build it with the same settings as the other network.", paramName);
    }
}

/// <summary>Matched parameter and buffer lists of an average and its source (see <see cref="Ema.Pairs"/>).</summary>
internal sealed class EmaPairs
{
    private readonly Tensor[] _avg, _src, _avgBuffers, _srcBuffers;

    public EmaPairs(Tensor[] avg, Tensor[] src, Tensor[] avgBuffers, Tensor[] srcBuffers)
    {
        _avg = avg; _src = src; _avgBuffers = avgBuffers; _srcBuffers = srcBuffers;
    }

    /// <summary>θ_avg ← μ·θ_avg + (1 − μ)·θ as one in-place lerp per parameter; buffers copied. Under no_grad.</summary>
    public void Update(double mu)
    {
        if (!(mu >= 0 && mu < 1)) throw new ArgumentOutOfRangeException(nameof(mu), mu, "μ must lie in [0, 1).");
        using var noGrad = no_grad();
        // lerp_(θ, 1 − μ) = θ_avg + (1 − μ)(θ − θ_avg): one kernel instead of mul_ then add_.
        for (int i = 0; i < _avg.Length; i++) _avg[i].lerp_(_src[i], 1 - mu);
        for (int i = 0; i < _avgBuffers.Length; i++) _avgBuffers[i].copy_(_srcBuffers[i]);
    }
}
