using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Sampling;

/// <summary>Gaussian noise from an explicit generator (never the global RNG).</summary>
internal static class Noise
{
    /// <summary>
    /// Standard normal noise of <paramref name="shape"/>, drawn on the generator's device and moved to
    /// <paramref name="device"/>, so the same seed gives the same numbers whatever device the model uses.
    /// </summary>
    /// <param name="shape">Shape of the result.</param>
    /// <param name="dtype">Dtype of the result.</param>
    /// <param name="device">Device of the result.</param>
    /// <param name="generator">The generator; must not be null.</param>
    public static Tensor Normal(long[] shape, ScalarType dtype, Device device, Generator generator)
    {
        CheckGenerator(generator, nameof(generator));
        using var scope = NewDisposeScope();
        var z = randn(shape, dtype: dtype, device: generator.device, generator: generator);
        return z.to(device).MoveToOuterDisposeScope();
    }

    /// <summary>x_T = t_0·z for <paramref name="n"/> samples of <paramref name="sampleShape"/> on the denoiser's device and dtype.</summary>
    /// <param name="denoiser">Supplies device and dtype.</param>
    /// <param name="n">Number of samples.</param>
    /// <param name="sampleShape">Shape of one sample.</param>
    /// <param name="t0">Starting time (σ_max for a full run).</param>
    /// <param name="generator">Source of z.</param>
    public static Tensor StartingPoint(IDenoiser denoiser, long n, long[] sampleShape, double t0, Generator generator)
    {
        using var scope = NewDisposeScope();
        var shape = new long[sampleShape.Length + 1];
        shape[0] = n;
        Array.Copy(sampleShape, 0, shape, 1, sampleShape.Length);
        return (Normal(shape, denoiser.DType, denoiser.Device, generator) * t0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A generator must be alive: TorchSharp passes a disposed one to libtorch as a null handle, which silently draws
    /// from the global RNG instead.
    /// </summary>
    /// <param name="generator">The generator.</param>
    /// <param name="paramName">Argument name for the exception.</param>
    public static void CheckGenerator(Generator generator, string paramName = "generator")
    {
        if (generator is null) throw new ArgumentNullException(paramName);
        if (generator.Handle == IntPtr.Zero)
            throw new ArgumentException($"{paramName} has been disposed; pass a live torch.Generator (a disposed one would silently use the global RNG).", paramName);
    }

    /// <summary>A new CPU generator with a random seed, for callers that passed none.</summary>
    public static Generator FreshGenerator() => new Generator((ulong)Random.Shared.NextInt64(), CPU);
}
