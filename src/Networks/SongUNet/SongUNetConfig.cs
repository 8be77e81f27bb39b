using System;
using System.Collections.Generic;
using System.Linq;

namespace Ctm.Core.Networks;

/// <summary>
/// Hyper-parameters of the DDPM++ <see cref="SongUNet"/> (EDM <c>SongUNet</c>, <c>arch='ddpmpp'</c>), named as in the
/// official code (<c>cm/networks.py</c>). The fixed DDPM++ choices are: positional noise embedding with endpoint and
/// swapped sin/cos halves, standard encoder and decoder, <c>resample_proj=True</c>, one attention head,
/// skip scale √½, GroupNorm ε 1e-6 and additive (not adaptive) FiLM.
/// </summary>
/// <remarks>Call <see cref="Validate"/> (the network does) to get a clear error for a configuration that cannot
/// build, before any tensor is allocated.</remarks>
public sealed record SongUNetConfig
{
    /// <summary>Image side length in pixels (square images); must be divisible by 2^(levels − 1).</summary>
    public int ImgResolution { get; init; } = 32;

    /// <summary>Input channels (3 for RGB, 1 for grey-scale).</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Output channels; equals <see cref="InChannels"/> for a denoiser.</summary>
    public int OutChannels { get; init; } = 3;

    /// <summary>Number of class labels; 0 = unconditional (official <c>label_dim</c>).</summary>
    public int LabelDim { get; init; }

    /// <summary>Base channel count (official <c>model_channels</c>).</summary>
    public int ModelChannels { get; init; } = 128;

    /// <summary>Per-resolution channel multipliers, highest resolution first (official <c>channel_mult</c>).</summary>
    public IReadOnlyList<int> ChannelMult { get; init; } = new[] { 2, 2, 2 };

    /// <summary>Embedding width = <see cref="ModelChannels"/> × this (official <c>channel_mult_emb</c>).</summary>
    public int ChannelMultEmb { get; init; } = 4;

    /// <summary>Noise-embedding width = <see cref="ModelChannels"/> × this (official <c>channel_mult_noise</c>, 1 for DDPM++).</summary>
    public int ChannelMultNoise { get; init; } = 1;

    /// <summary>Residual blocks per resolution (official <c>num_blocks</c>).</summary>
    public int NumBlocks { get; init; } = 4;

    /// <summary>Resolutions with self-attention (official <c>attn_resolutions</c>).</summary>
    public IReadOnlyList<int> AttnResolutions { get; init; } = new[] { 16 };

    /// <summary>Dropout probability inside residual blocks (active only in training mode).</summary>
    public double Dropout { get; init; } = 0.13;

    /// <summary>Resampling filter taps (DDPM++: [1, 1]).</summary>
    public IReadOnlyList<double> ResampleFilter { get; init; } = new[] { 1.0, 1.0 };

    /// <summary>
    /// Whether the network has CTM's s-branch (<c>map_layer0_s</c>, <c>map_layer1_s</c>, <c>affine_s</c>; official
    /// <c>training_mode='ctm'</c>). True for a CTM student, false for an EDM teacher.
    /// </summary>
    public bool TrajectoryBranch { get; init; } = true;

    /// <summary>Embedding width (model_channels × channel_mult_emb).</summary>
    public int EmbChannels => ModelChannels * ChannelMultEmb;

    /// <summary>Noise-embedding width (model_channels × channel_mult_noise).</summary>
    public int NoiseChannels => ModelChannels * ChannelMultNoise;

    /// <summary>
    /// The official CIFAR-10 DDPM++ network (EDM <c>--arch=ddpmpp</c>, also CTM's CIFAR-10 student): 32×32×3, 128
    /// channels, multipliers [2, 2, 2], 4 blocks per resolution, attention at 16, dropout 0.13.
    /// </summary>
    /// <param name="labelDim">0 for unconditional CIFAR-10, 10 for class-conditional.</param>
    /// <param name="trajectoryBranch">True for the CTM student, false for the EDM teacher.</param>
    public static SongUNetConfig Cifar10DdpmPlusPlus(int labelDim = 0, bool trajectoryBranch = true) => new()
    {
        ImgResolution = 32, InChannels = 3, OutChannels = 3, LabelDim = labelDim, ModelChannels = 128,
        ChannelMult = new[] { 2, 2, 2 }, NumBlocks = 4, AttnResolutions = new[] { 16 }, Dropout = 0.13,
        TrajectoryBranch = trajectoryBranch,
    };

    /// <summary>The same network without the s-branch: the EDM teacher of a CTM student with this config.</summary>
    public SongUNetConfig AsTeacher() => this with { TrajectoryBranch = false };

    /// <summary>The same network with the s-branch: the CTM student of an EDM teacher with this config.</summary>
    public SongUNetConfig AsStudent() => this with { TrajectoryBranch = true };

    /// <summary>GroupNorm group count used by the official code for <paramref name="channels"/> channels.</summary>
    /// <param name="channels">Channel count.</param>
    public static int GroupsFor(int channels) => Math.Min(32, channels / 4);

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending setting and the fix.</summary>
    public void Validate()
    {
        static ArgumentException Bad(string name, string why) => new($"SongUNetConfig.{name}: {why}", name);
        if (ImgResolution < 1) throw Bad(nameof(ImgResolution), $"must be ≥ 1, got {ImgResolution}.");
        if (InChannels < 1) throw Bad(nameof(InChannels), $"must be ≥ 1, got {InChannels}.");
        if (OutChannels < 1) throw Bad(nameof(OutChannels), $"must be ≥ 1, got {OutChannels}.");
        if (LabelDim < 0) throw Bad(nameof(LabelDim), $"must be ≥ 0 (0 = unconditional), got {LabelDim}.");
        if (ModelChannels < 4) throw Bad(nameof(ModelChannels), $"must be ≥ 4 (GroupNorm uses channels/4 groups), got {ModelChannels}.");
        if (ChannelMult is null || ChannelMult.Count == 0 || ChannelMult.Any(m => m < 1))
            throw Bad(nameof(ChannelMult), "needs at least one multiplier, each ≥ 1 (e.g. [2, 2, 2]).");
        if (ChannelMultEmb < 1) throw Bad(nameof(ChannelMultEmb), $"must be ≥ 1, got {ChannelMultEmb}.");
        if (ChannelMultNoise < 1 || NoiseChannels < 4 || NoiseChannels % 2 != 0)
            throw Bad(nameof(ChannelMultNoise), $"model_channels × channel_mult_noise must be an even number ≥ 4, got {NoiseChannels}.");
        if (NumBlocks < 1) throw Bad(nameof(NumBlocks), $"must be ≥ 1, got {NumBlocks}.");
        if (AttnResolutions is null) throw Bad(nameof(AttnResolutions), "must not be null (use an empty list for no attention).");
        if (Dropout < 0 || Dropout >= 1 || double.IsNaN(Dropout)) throw Bad(nameof(Dropout), $"must be in [0, 1), got {Dropout}.");
        if (ResampleFilter is null || ResampleFilter.Count == 0 || Math.Abs(ResampleFilter.Sum()) < 1e-12)
            throw Bad(nameof(ResampleFilter), "needs at least one tap and a non-zero sum (DDPM++: [1, 1]).");
        int levels = ChannelMult.Count;
        if (ImgResolution % (1 << (levels - 1)) != 0)
            throw Bad(nameof(ImgResolution), $"{ImgResolution} is not divisible by 2^{levels - 1}; {levels} resolution levels halve it {levels - 1} times.");
        foreach (var block in SongUNetLayout.Plan(this))
            foreach (int c in block.NormChannels)
                if (c % GroupsFor(c) != 0)
                    throw Bad(nameof(ModelChannels), $"block '{block.Name}' normalises {c} channels with {GroupsFor(c)} GroupNorm groups (official rule min(32, C/4)), which do not divide {c}; pick model_channels as a multiple of 4 below 32 or a multiple of 32.");
    }
}
