using System;
using System.Collections.Generic;
using System.Linq;

namespace Ctm.Core.Networks;

/// <summary>
/// Hyper-parameters of <see cref="AdmUNet"/>, OpenAI's ADM U-Net (<c>UNetModel</c> of guided-diffusion /
/// consistency_models) as used by the official CTM ImageNet-64 code (sony/ctm <c>code/cm/unet.py</c>), named as the
/// official constructor arguments.
/// </summary>
/// <remarks>
/// Fixed choices of the official code: GroupNorm with 32 groups (ε 1e-5, computed in float32), OpenAI's
/// <c>timestep_embedding</c> (cos half first, max period 10000), an embedding width of 4·model_channels, attention
/// heads laid out as (three, heads, head_dim) over the qkv channels (the flash-attention layout, which the legacy path
/// matches since sony/ctm PR #6). Call <see cref="Validate"/> (the network does) for a clear error before any tensor is
/// allocated.
/// </remarks>
public sealed record AdmUNetConfig
{
    /// <summary>Image side length (square images; official <c>image_size</c>); divisible by 2^(levels − 1).</summary>
    public int ImageSize { get; init; } = 64;

    /// <summary>Input channels (official <c>in_channels</c>).</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Output channels (official <c>out_channels</c>; equal to <see cref="InChannels"/> for a denoiser).</summary>
    public int OutChannels { get; init; } = 3;

    /// <summary>Base channel count (official <c>model_channels</c>, the <c>--num_channels</c> flag).</summary>
    public int ModelChannels { get; init; } = 192;

    /// <summary>Residual blocks per level (official <c>num_res_blocks</c>).</summary>
    public int NumResBlocks { get; init; } = 3;

    /// <summary>
    /// Downsample rates with self-attention (official <c>attention_resolutions</c>, which holds rates, not
    /// resolutions: the flag "32,16,8" on 64×64 images becomes 2, 4, 8). Use <see cref="RatesForResolutions"/> to convert.
    /// </summary>
    public IReadOnlyList<int> AttentionDownsampleRates { get; init; } = new[] { 2, 4, 8 };

    /// <summary>Dropout inside residual blocks, active only in training mode (official <c>dropout</c>).</summary>
    public double Dropout { get; init; }

    /// <summary>Channel multiplier per level, highest resolution first (official <c>channel_mult</c>).</summary>
    public IReadOnlyList<int> ChannelMult { get; init; } = new[] { 1, 2, 3, 4 };

    /// <summary>
    /// Learned 3×3 convolutions in the plain up/down-samplers (official <c>conv_resample</c>); only used when
    /// <see cref="ResblockUpdown"/> is false.
    /// </summary>
    public bool ConvResample { get; init; } = true;

    /// <summary>Number of classes for a class-conditional network (official <c>num_classes</c>); 0 = unconditional.</summary>
    public int NumClasses { get; init; }

    /// <summary>Attention heads when <see cref="NumHeadChannels"/> is −1 (official <c>num_heads</c>).</summary>
    public int NumHeads { get; init; } = 1;

    /// <summary>Channels per attention head, overriding <see cref="NumHeads"/>; −1 = use NumHeads (official <c>num_head_channels</c>).</summary>
    public int NumHeadChannels { get; init; } = 64;

    /// <summary>Heads of the decoder's attention when <see cref="NumHeadChannels"/> is −1; −1 = <see cref="NumHeads"/> (official <c>num_heads_upsample</c>).</summary>
    public int NumHeadsUpsample { get; init; } = -1;

    /// <summary>FiLM by scale and shift, h = norm(h)·(1 + scale) + shift (official <c>use_scale_shift_norm</c>); else additive.</summary>
    public bool UseScaleShiftNorm { get; init; } = true;

    /// <summary>Residual blocks do the up/down-sampling (official <c>resblock_updown</c>); else plain samplers.</summary>
    public bool ResblockUpdown { get; init; } = true;

    /// <summary>
    /// Whether the network has CTM's s-branch (<c>time_embed_s</c> and every ResBlock's <c>emb_layers_s</c>; official
    /// <c>training_mode='ctm'</c>). True for a CTM student, false for the EDM teacher.
    /// </summary>
    public bool TrajectoryBranch { get; init; } = true;

    /// <summary>Time-embedding width, 4·<see cref="ModelChannels"/>.</summary>
    public int EmbChannels => ModelChannels * 4;

    /// <summary>
    /// The official ImageNet-64 CTM network (sony/ctm <c>model_and_diffusion_defaults</c> for ImageNet-64): 192 channels,
    /// channel_mult [1, 2, 3, 4], 3 residual blocks, attention at 32, 16, 8 (rates 2, 4, 8), 64 channels per head,
    /// scale-shift norm, residual up/down-sampling, 1000 classes.
    /// </summary>
    /// <param name="trajectoryBranch">True for the CTM student, false for the EDM teacher (<c>edm_imagenet64_ema.pt</c>).</param>
    /// <param name="dropout">Dropout (the official student uses 0; its teacher was trained with 0.1).</param>
    public static AdmUNetConfig ImageNet64(bool trajectoryBranch = true, double dropout = 0.0) => new()
    {
        ImageSize = 64, InChannels = 3, OutChannels = 3, ModelChannels = 192, NumResBlocks = 3,
        AttentionDownsampleRates = RatesForResolutions(64, 32, 16, 8), Dropout = dropout, ChannelMult = new[] { 1, 2, 3, 4 },
        NumClasses = 1000, NumHeads = 4, NumHeadChannels = 64, UseScaleShiftNorm = true, ResblockUpdown = true,
        TrajectoryBranch = trajectoryBranch,
    };

    /// <summary>The official conversion of the <c>--attention_resolutions</c> flag: rate = image_size / resolution.</summary>
    /// <param name="imageSize">Image side length.</param>
    /// <param name="resolutions">Feature-map sizes with attention, e.g. 32, 16, 8.</param>
    public static int[] RatesForResolutions(int imageSize, params int[] resolutions)
    {
        if (resolutions is null) throw new ArgumentNullException(nameof(resolutions));
        foreach (int r in resolutions)
            if (r < 1 || imageSize % r != 0)
                throw new ArgumentException($"Attention resolution {r} does not divide the image size {imageSize}.", nameof(resolutions));
        return resolutions.Select(r => imageSize / r).ToArray();
    }

    /// <summary>The same network without the s-branch: the EDM teacher of a CTM student with this config.</summary>
    public AdmUNetConfig AsTeacher() => this with { TrajectoryBranch = false };

    /// <summary>The same network with the s-branch: the CTM student of an EDM teacher with this config.</summary>
    public AdmUNetConfig AsStudent() => this with { TrajectoryBranch = true };

    /// <summary>GroupNorm's group count in the official code (<c>normalization</c> = <c>GroupNorm32(32, C)</c>).</summary>
    internal const int GroupNormGroups = 32;

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending setting and the fix.</summary>
    public void Validate()
    {
        static ArgumentException Bad(string name, string why) => new($"AdmUNetConfig.{name}: {why}", name);
        if (ImageSize < 1) throw Bad(nameof(ImageSize), $"must be ≥ 1, got {ImageSize}.");
        if (InChannels < 1) throw Bad(nameof(InChannels), $"must be ≥ 1, got {InChannels}.");
        if (OutChannels < 1) throw Bad(nameof(OutChannels), $"must be ≥ 1, got {OutChannels}.");
        if (ModelChannels < 2 || ModelChannels % 2 != 0)
            throw Bad(nameof(ModelChannels), $"must be an even number ≥ 2 (the timestep embedding has model_channels/2 frequencies), got {ModelChannels}.");
        if (NumResBlocks < 1) throw Bad(nameof(NumResBlocks), $"must be ≥ 1, got {NumResBlocks}.");
        if (AttentionDownsampleRates is null) throw Bad(nameof(AttentionDownsampleRates), "must not be null (use an empty list for attention only in the middle block).");
        if (Dropout < 0 || Dropout >= 1 || double.IsNaN(Dropout)) throw Bad(nameof(Dropout), $"must be in [0, 1), got {Dropout}.");
        if (ChannelMult is null || ChannelMult.Count == 0 || ChannelMult.Any(m => m < 1))
            throw Bad(nameof(ChannelMult), "needs at least one multiplier, each ≥ 1 (ImageNet-64: [1, 2, 3, 4]).");
        if (NumClasses < 0) throw Bad(nameof(NumClasses), $"must be ≥ 0 (0 = unconditional), got {NumClasses}.");
        if (NumHeadChannels == -1 && (NumHeads < 1 || (NumHeadsUpsample != -1 && NumHeadsUpsample < 1)))
            throw Bad(nameof(NumHeads), $"needs NumHeads ≥ 1 and NumHeadsUpsample ≥ 1 or −1 when NumHeadChannels = −1, got {NumHeads} and {NumHeadsUpsample}.");
        if (NumHeadChannels != -1 && NumHeadChannels < 1)
            throw Bad(nameof(NumHeadChannels), $"must be ≥ 1, or −1 to use NumHeads, got {NumHeadChannels}.");
        int levels = ChannelMult.Count;
        if (ImageSize % (1 << (levels - 1)) != 0)
            throw Bad(nameof(ImageSize), $"{ImageSize} is not divisible by 2^{levels - 1}; {levels} levels halve it {levels - 1} times.");
        foreach (var layer in AdmUNetLayout.AllLayers(this))
        {
            if (layer.Kind is AdmLayerKind.ResBlock or AdmLayerKind.Attention)
                foreach (int c in new[] { layer.InChannels, layer.OutChannels })
                    if (c % GroupNormGroups != 0)
                        throw Bad(nameof(ModelChannels), $"a {layer.Kind} normalises {c} channels with 32 GroupNorm groups, which do not divide {c}; " +
                            "pick model_channels and channel_mult so that every level has a multiple of 32 channels.");
            if (layer.Kind == AdmLayerKind.Attention && (layer.Heads < 1 || layer.OutChannels % layer.Heads != 0))
                throw Bad(nameof(NumHeadChannels), NumHeadChannels != -1
                    ? $"attention over {layer.OutChannels} channels cannot be split into heads of {NumHeadChannels} channels; pick a divisor."
                    : $"attention over {layer.OutChannels} channels cannot be split into {layer.Heads} heads; pick a divisor.");
        }
    }
}
