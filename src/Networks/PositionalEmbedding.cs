using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// Sinusoidal embedding of a scalar per sample (EDM/DDPM++ <c>PositionalEmbedding</c>): frequencies
/// (1/max_positions)^(i/(half − endpoint)), output [cos(x·f), sin(x·f)] of width <c>numChannels</c>.
/// </summary>
/// <remarks>Parameter-free. Input [B]; output [B, numChannels]. `scale` multiplies x first.</remarks>
internal sealed class PositionalEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly int _numChannels;
    private readonly double _maxPositions;
    private readonly bool _endpoint;
    private readonly double _scale;

    /// <summary>Creates the embedding.</summary>
    /// <param name="numChannels">Output width (even).</param>
    /// <param name="maxPositions">Longest period (10000 in EDM).</param>
    /// <param name="endpoint">Whether the lowest frequency reaches exactly 1/maxPositions (DDPM++: true).</param>
    /// <param name="scale">Multiplier applied to the input before embedding.</param>
    /// <param name="name">Module name.</param>
    public PositionalEmbedding(int numChannels, double maxPositions = 10000, bool endpoint = false, double scale = 1.0, string name = "positional_embedding")
        : base(name)
    {
        if (numChannels < 2 || numChannels % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(numChannels), numChannels, "numChannels must be an even number ≥ 2.");
        if (endpoint && numChannels < 4)
            throw new ArgumentOutOfRangeException(nameof(numChannels), numChannels, "With endpoint = true numChannels must be ≥ 4.");
        _numChannels = numChannels;
        _maxPositions = maxPositions;
        _endpoint = endpoint;
        _scale = scale;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        int half = _numChannels / 2;
        var freqs = arange(half, dtype: ScalarType.Float32, device: x.device) / (half - (_endpoint ? 1 : 0));
        freqs = pow(1.0 / _maxPositions, freqs);
        var arg = (x.to_type(ScalarType.Float32) * _scale).reshape(-1, 1) * freqs.reshape(1, -1);
        return cat(new[] { arg.cos(), arg.sin() }, 1).to_type(x.dtype).MoveToOuterDisposeScope();
    }
}
