using System.Collections.Generic;
using System.Linq;

namespace Ctm.Core.Networks;

/// <summary>What a <see cref="SongUNet"/> encoder or decoder entry is.</summary>
internal enum SongUNetLayerKind
{
    /// <summary>The first 3×3 convolution (<c>enc.{r}x{r}_conv</c>).</summary>
    InputConv,
    /// <summary>A residual <c>UNetBlock</c> (optionally with up/down-sampling and attention).</summary>
    Block,
    /// <summary>The output GroupNorm (<c>dec.{r}x{r}_aux_norm</c>).</summary>
    OutputNorm,
    /// <summary>The output 3×3 convolution (<c>dec.{r}x{r}_aux_conv</c>).</summary>
    OutputConv,
}

/// <summary>One entry of the encoder or decoder, in the official construction order.</summary>
/// <param name="Name">Key inside <c>enc</c>/<c>dec</c>, e.g. <c>16x16_block3</c>.</param>
/// <param name="Kind">What the entry is.</param>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Up">2× up-sampling (decoder <c>_up</c> blocks).</param>
/// <param name="Down">2× down-sampling (encoder <c>_down</c> blocks).</param>
/// <param name="Attention">Self-attention after the residual path.</param>
internal sealed record SongUNetLayer(string Name, SongUNetLayerKind Kind, int InChannels, int OutChannels,
    bool Up = false, bool Down = false, bool Attention = false)
{
    /// <summary>Channel counts this entry normalises with GroupNorm (for configuration checks).</summary>
    public IEnumerable<int> NormChannels => Kind switch
    {
        SongUNetLayerKind.Block => Attention ? new[] { InChannels, OutChannels, OutChannels } : new[] { InChannels, OutChannels },
        SongUNetLayerKind.OutputNorm => new[] { InChannels },
        _ => System.Array.Empty<int>(),
    };
}

/// <summary>
/// The DDPM++ encoder/decoder plan as plain data (no tensors), mirroring the loops of the official
/// <c>SongUNet.__init__</c> (standard encoder and decoder). <see cref="SongUNet"/> builds its modules from it and
/// <see cref="SongUNetConfig.Validate"/> checks it, so both always agree.
/// </summary>
internal static class SongUNetLayout
{
    /// <summary>Encoder entries (<c>enc.*</c>) then decoder entries (<c>dec.*</c>).</summary>
    /// <param name="c">The configuration (not validated here).</param>
    /// <returns>(encoder, decoder) lists in construction (= execution) order.</returns>
    public static (IReadOnlyList<SongUNetLayer> Encoder, IReadOnlyList<SongUNetLayer> Decoder) Build(SongUNetConfig c)
    {
        var enc = new List<SongUNetLayer>();
        int cout = c.InChannels;
        for (int level = 0; level < c.ChannelMult.Count; level++)
        {
            int res = c.ImgResolution >> level;
            if (level == 0)
            {
                enc.Add(new($"{res}x{res}_conv", SongUNetLayerKind.InputConv, cout, c.ModelChannels));
                cout = c.ModelChannels;
            }
            else
            {
                enc.Add(new($"{res}x{res}_down", SongUNetLayerKind.Block, cout, cout, Down: true));
            }
            for (int idx = 0; idx < c.NumBlocks; idx++)
            {
                int cin = cout;
                cout = c.ModelChannels * c.ChannelMult[level];
                enc.Add(new($"{res}x{res}_block{idx}", SongUNetLayerKind.Block, cin, cout, Attention: c.AttnResolutions.Contains(res)));
            }
        }
        var skips = new Stack<int>(enc.Select(e => e.OutChannels));

        var dec = new List<SongUNetLayer>();
        for (int level = c.ChannelMult.Count - 1; level >= 0; level--)
        {
            int res = c.ImgResolution >> level;
            if (level == c.ChannelMult.Count - 1)
            {
                dec.Add(new($"{res}x{res}_in0", SongUNetLayerKind.Block, cout, cout, Attention: true));
                dec.Add(new($"{res}x{res}_in1", SongUNetLayerKind.Block, cout, cout));
            }
            else
            {
                dec.Add(new($"{res}x{res}_up", SongUNetLayerKind.Block, cout, cout, Up: true));
            }
            for (int idx = 0; idx < c.NumBlocks + 1; idx++)
            {
                int cin = cout + skips.Pop();
                cout = c.ModelChannels * c.ChannelMult[level];
                bool attn = idx == c.NumBlocks && c.AttnResolutions.Contains(res);
                dec.Add(new($"{res}x{res}_block{idx}", SongUNetLayerKind.Block, cin, cout, Attention: attn));
            }
            if (level == 0)
            {
                dec.Add(new($"{res}x{res}_aux_norm", SongUNetLayerKind.OutputNorm, cout, cout));
                dec.Add(new($"{res}x{res}_aux_conv", SongUNetLayerKind.OutputConv, cout, c.OutChannels));
            }
        }
        return (enc, dec);
    }

    /// <summary>All entries, encoder first.</summary>
    /// <param name="c">The configuration.</param>
    public static IEnumerable<SongUNetLayer> Plan(SongUNetConfig c)
    {
        var (enc, dec) = Build(c);
        return enc.Concat(dec);
    }
}
