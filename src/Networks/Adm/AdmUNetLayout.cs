using System.Collections.Generic;
using System.Linq;

namespace Ctm.Core.Networks;

/// <summary>What one layer inside an <see cref="AdmUNet"/> block is.</summary>
internal enum AdmLayerKind
{
    /// <summary>The first 3×3 convolution (<c>input_blocks.0.0</c>).</summary>
    InputConv,
    /// <summary>A residual block, optionally up- or down-sampling.</summary>
    ResBlock,
    /// <summary>Multi-head self-attention.</summary>
    Attention,
    /// <summary>A plain 2× down-sampler (strided 3×3 conv or average pooling), when resblock_updown is off.</summary>
    Downsample,
    /// <summary>A plain 2× up-sampler (nearest, optionally followed by a 3×3 conv), when resblock_updown is off.</summary>
    Upsample,
}

/// <summary>One layer of a block, in call order.</summary>
/// <param name="Kind">What the layer is.</param>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Up">2× up-sampling (ResBlock).</param>
/// <param name="Down">2× down-sampling (ResBlock).</param>
/// <param name="Heads">Attention heads (Attention only).</param>
internal sealed record AdmLayer(AdmLayerKind Kind, int InChannels, int OutChannels, bool Up = false, bool Down = false, int Heads = 0);

/// <summary>
/// The block plan of the official <c>UNetModel.__init__</c> as plain data: <c>input_blocks</c>, <c>middle_block</c> and
/// <c>output_blocks</c>, each block a <c>TimestepEmbedSequential</c> of layers whose state-dict names are their indices.
/// <see cref="AdmUNet"/> builds its modules from it and <see cref="AdmUNetConfig.Validate"/> checks it.
/// </summary>
internal static class AdmUNetLayout
{
    public static (List<IReadOnlyList<AdmLayer>> Input, IReadOnlyList<AdmLayer> Middle, List<IReadOnlyList<AdmLayer>> Output) Build(AdmUNetConfig c)
    {
        int Heads(int channels, bool upsample)
        {
            if (c.NumHeadChannels != -1) return channels % c.NumHeadChannels == 0 ? channels / c.NumHeadChannels : -1;
            return upsample && c.NumHeadsUpsample != -1 ? c.NumHeadsUpsample : c.NumHeads;
        }
        AdmLayer Res(int cin, int cout, bool up = false, bool down = false) => new(AdmLayerKind.ResBlock, cin, cout, up, down);
        AdmLayer Attn(int ch, bool upsample) => new(AdmLayerKind.Attention, ch, ch, Heads: Heads(ch, upsample));

        var input = new List<IReadOnlyList<AdmLayer>>();
        int ch = c.ChannelMult[0] * c.ModelChannels;
        input.Add(new[] { new AdmLayer(AdmLayerKind.InputConv, c.InChannels, ch) });
        var skipChannels = new Stack<int>();
        skipChannels.Push(ch);
        int ds = 1;
        for (int level = 0; level < c.ChannelMult.Count; level++)
        {
            int mult = c.ChannelMult[level];
            for (int i = 0; i < c.NumResBlocks; i++)
            {
                var layers = new List<AdmLayer> { Res(ch, mult * c.ModelChannels) };
                ch = mult * c.ModelChannels;
                if (c.AttentionDownsampleRates.Contains(ds)) layers.Add(Attn(ch, upsample: false));
                input.Add(layers);
                skipChannels.Push(ch);
            }
            if (level != c.ChannelMult.Count - 1)
            {
                input.Add(new[] { c.ResblockUpdown ? Res(ch, ch, down: true) : new AdmLayer(AdmLayerKind.Downsample, ch, ch) });
                skipChannels.Push(ch);
                ds *= 2;
            }
        }

        var middle = new[] { Res(ch, ch), Attn(ch, upsample: false), Res(ch, ch) };

        var output = new List<IReadOnlyList<AdmLayer>>();
        for (int level = c.ChannelMult.Count - 1; level >= 0; level--)
        {
            int mult = c.ChannelMult[level];
            for (int i = 0; i <= c.NumResBlocks; i++)
            {
                int skip = skipChannels.Pop();
                var layers = new List<AdmLayer> { Res(ch + skip, c.ModelChannels * mult) };
                ch = c.ModelChannels * mult;
                if (c.AttentionDownsampleRates.Contains(ds)) layers.Add(Attn(ch, upsample: true));
                if (level > 0 && i == c.NumResBlocks)
                {
                    layers.Add(c.ResblockUpdown ? Res(ch, ch, up: true) : new AdmLayer(AdmLayerKind.Upsample, ch, ch));
                    ds /= 2;
                }
                output.Add(layers);
            }
        }
        return (input, middle, output);
    }

    /// <summary>
    /// The number of parameters <see cref="AdmUNet"/> builds for <paramref name="c"/>, counted from the plan without
    /// allocating anything (the ImageNet-64 network has about 296 M).
    /// </summary>
    public static long ParameterCount(AdmUNetConfig c)
    {
        long emb = c.EmbChannels, branches = c.TrajectoryBranch ? 2 : 1;
        static long Conv(long cin, long cout, long k) => cin * cout * k * k + cout;
        static long Norm(long ch) => 2 * ch;
        long total = branches * (Conv(c.ModelChannels, emb, 1) + Conv(emb, emb, 1)) + (long)c.NumClasses * emb;
        foreach (var l in AllLayers(c))
        {
            long cin = l.InChannels, cout = l.OutChannels;
            total += l.Kind switch
            {
                AdmLayerKind.InputConv => Conv(cin, cout, 3),
                AdmLayerKind.ResBlock => Norm(cin) + Conv(cin, cout, 3) + branches * Conv(emb, c.UseScaleShiftNorm ? 2 * cout : cout, 1)
                    + Norm(cout) + Conv(cout, cout, 3) + (cin != cout ? Conv(cin, cout, 1) : 0),
                AdmLayerKind.Attention => Norm(cout) + Conv(cout, 3 * cout, 1) + Conv(cout, cout, 1),
                _ => c.ConvResample ? Conv(cin, cout, 3) : 0,   // plain Downsample/Upsample
            };
        }
        var (_, _, output) = Build(c);
        long last = output[^1][0].OutChannels;
        return total + Norm(last) + Conv(last, c.OutChannels, 3);
    }

    /// <summary>Every layer of the network, for configuration checks.</summary>
    public static IEnumerable<AdmLayer> AllLayers(AdmUNetConfig c)
    {
        var (input, middle, output) = Build(c);
        return input.SelectMany(b => b).Concat(middle).Concat(output.SelectMany(b => b));
    }
}
