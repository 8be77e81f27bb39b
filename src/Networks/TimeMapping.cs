using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// Maps c_noise to an embedding: SiLU(map_layer1(SiLU(map_layer0(PosEmb(c_noise))))) — the t- and s-mapping branches
/// of SongUNet, in miniature.
/// </summary>
internal sealed class TimeMapping : nn.Module<Tensor, Tensor>
{
    private readonly PositionalEmbedding map_noise;
    private readonly Linear map_layer0;
    private readonly Linear map_layer1;

    /// <summary>Creates the mapping.</summary>
    /// <param name="embeddingChannels">Sinusoidal width.</param>
    /// <param name="hidden">Output width.</param>
    /// <param name="scale">Multiplier of c_noise before the sinusoids.</param>
    /// <param name="name">Module name.</param>
    public TimeMapping(int embeddingChannels, int hidden, double scale, string name = "time_mapping") : base(name)
    {
        map_noise = new PositionalEmbedding(embeddingChannels, endpoint: true, scale: scale);
        map_layer0 = nn.Linear(embeddingChannels, hidden);
        map_layer1 = nn.Linear(hidden, hidden);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor cNoise)
    {
        using var scope = NewDisposeScope();
        var e = map_noise.call(cNoise);
        e = nn.functional.silu(map_layer0.call(e));
        return nn.functional.silu(map_layer1.call(e)).MoveToOuterDisposeScope();
    }
}
