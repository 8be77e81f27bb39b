using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Likelihood;

/// <summary>
/// Bits per dimension for 8-bit images scaled to [−1, 1] with uniform dequantisation: a pixel value k ∈ {0..255}
/// becomes x = 2(k + u)/256 − 1, u ~ U[0, 1), a cell of width 2/256, so
/// bits/dim = −log p(x)/(D ln 2) + log₂ 128 = −log p(x)/(D ln 2) + 7 (the official "+7").
/// </summary>
public static class BitsPerDim
{
    /// <summary>Bits/dim from a mean log-likelihood (nats per sample) of dequantised [−1, 1] data.</summary>
    /// <param name="meanLogLikelihood">Mean log p(x) in nats per sample.</param>
    /// <param name="dims">Dimensions per sample (C·H·W).</param>
    public static double FromLogLikelihood(double meanLogLikelihood, long dims)
    {
        if (dims < 1) throw new ArgumentOutOfRangeException(nameof(dims), dims, "dims must be ≥ 1.");
        return -meanLogLikelihood / (dims * Math.Log(2)) + Math.Log2(128);
    }

    /// <summary>
    /// Uniformly dequantises 8-bit data: <paramref name="pixels"/> holds integers 0..255 (any dtype) or values in
    /// [−1, 1] on the 256-level grid; returns 2(k + u)/256 − 1 as float32 (a new tensor).
    /// </summary>
    /// <param name="pixels">Images (borrowed).</param>
    /// <param name="generator">Source of u.</param>
    /// <param name="fromModelSpace">True if <paramref name="pixels"/> is already in [−1, 1] (k = round((x + 1)·255/2)).</param>
    public static Tensor Dequantize(Tensor pixels, Generator generator, bool fromModelSpace = false)
    {
        if (pixels is null) throw new ArgumentNullException(nameof(pixels));
        Sampling.Noise.CheckGenerator(generator, nameof(generator));
        using var scope = NewDisposeScope();
        var k = fromModelSpace ? ((pixels.to_type(ScalarType.Float32) + 1) * 127.5).round() : pixels.to_type(ScalarType.Float32);
        if (k.min().item<float>() < 0 || k.max().item<float>() > 255)
            throw new ArgumentException("pixels must hold 8-bit values 0..255 (or [−1, 1] with fromModelSpace = true).", nameof(pixels));
        var u = rand(k.shape, generator: generator, device: CPU).to(k.device);
        return ((k + u) * (2.0 / 256) - 1).MoveToOuterDisposeScope();
    }
}
