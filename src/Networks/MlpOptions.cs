using System;

namespace Ctm.Core.Networks;

/// <summary>Shape of the vector networks <see cref="TrajectoryMlp"/> and <see cref="DenoiserMlp"/>.</summary>
public sealed class MlpOptions
{
    /// <summary>Data dimension D (input and output width).</summary>
    public int Dimension { get; set; } = 2;

    /// <summary>Hidden width.</summary>
    public int Hidden { get; set; } = 128;

    /// <summary>Number of residual blocks.</summary>
    public int Blocks { get; set; } = 3;

    /// <summary>Width of the sinusoidal time embedding.</summary>
    public int EmbeddingChannels { get; set; } = 64;

    /// <summary>
    /// Multiplier of c_noise(σ) = ln(σ)/4 before the sinusoidal embedding (c_noise spans only ≈ 2.7 over
    /// [0.002, 80], so a larger scale gives the embedding usable frequencies). Default 25.
    /// </summary>
    public double EmbeddingScale { get; set; } = 25.0;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Dimension < 1) throw new ArgumentException($"MlpOptions.Dimension = {Dimension}: must be ≥ 1.", "options");
        if (Hidden < 1) throw new ArgumentException($"MlpOptions.Hidden = {Hidden}: must be ≥ 1.", "options");
        if (Blocks < 0) throw new ArgumentException($"MlpOptions.Blocks = {Blocks}: must be ≥ 0.", "options");
        if (EmbeddingChannels < 4 || EmbeddingChannels % 2 != 0)
            throw new ArgumentException($"MlpOptions.EmbeddingChannels = {EmbeddingChannels}: must be even and ≥ 4.", "options");
        if (!(EmbeddingScale > 0) || !double.IsFinite(EmbeddingScale))
            throw new ArgumentException($"MlpOptions.EmbeddingScale = {EmbeddingScale}: must be finite and > 0.", "options");
    }
}
