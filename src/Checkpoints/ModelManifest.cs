using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ctm.Core.Networks;

namespace Ctm.Core.Checkpoints;

/// <summary>
/// The JSON half of a <see cref="TrainedModel"/> file set: which library network, its configuration under the official
/// argument names (SongUNet: <c>img_resolution</c>, <c>model_channels</c>, …; AdmUNet: <c>image_size</c>,
/// <c>num_res_blocks</c>, …), the schedule, the sample shape and the
/// weights file next to it. Written and read with <see cref="JsonNode"/> so the layout is explicit here.
/// </summary>
internal sealed record ModelManifest(string Network, JsonObject Config, CtmOptions Schedule, long[] SampleShape, string Weights)
{
    public const string Format = "ctm-core-model/1";

    public JsonObject ToJson() => new()
    {
        ["format"] = Format,
        ["network"] = Network,
        ["config"] = Config.DeepClone(),
        ["schedule"] = new JsonObject
        {
            ["sigma_min"] = Schedule.SigmaMin,
            ["sigma_max"] = Schedule.SigmaMax,
            ["sigma_data"] = Schedule.SigmaData,
            ["rho"] = Schedule.Rho,
        },
        ["sample_shape"] = new JsonArray(SampleShape.Select(d => (JsonNode?)d).ToArray()),
        ["weights"] = Weights,
    };

    public static ModelManifest Parse(string json, string path)
    {
        try
        {
            var root = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException("empty document");
            var format = (string?)root["format"];
            if (format != Format) throw new InvalidDataException($"format is '{format}', expected '{Format}'");
            var s = Need(root, "schedule").AsObject();
            var schedule = new CtmOptions
            {
                SigmaMin = (double)Need(s, "sigma_min"),
                SigmaMax = (double)Need(s, "sigma_max"),
                SigmaData = (double)Need(s, "sigma_data"),
                Rho = (double)Need(s, "rho"),
            };
            var shape = Need(root, "sample_shape").AsArray().Select(n => (long)n!).ToArray();
            return new ModelManifest((string)Need(root, "network")!, Need(root, "config").AsObject(), schedule, shape, (string)Need(root, "weights")!);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"'{path}' is not a Ctm.Core model description ({e.Message}). Write one with TrainedModel.Save.", e);
        }
    }

    private static JsonNode Need(JsonObject o, string key) => o[key] ?? throw new InvalidDataException($"missing \"{key}\"");

    public static JsonObject Describe(SongUNetConfig c) => new()
    {
        ["img_resolution"] = c.ImgResolution,
        ["in_channels"] = c.InChannels,
        ["out_channels"] = c.OutChannels,
        ["label_dim"] = c.LabelDim,
        ["model_channels"] = c.ModelChannels,
        ["channel_mult"] = Ints(c.ChannelMult),
        ["channel_mult_emb"] = c.ChannelMultEmb,
        ["channel_mult_noise"] = c.ChannelMultNoise,
        ["num_blocks"] = c.NumBlocks,
        ["attn_resolutions"] = Ints(c.AttnResolutions),
        ["dropout"] = c.Dropout,
        ["resample_filter"] = new JsonArray(c.ResampleFilter.Select(v => (JsonNode?)v).ToArray()),
        ["trajectory_branch"] = c.TrajectoryBranch,
    };

    public static SongUNetConfig SongUNetConfig(JsonObject o) => new()
    {
        ImgResolution = (int)Need(o, "img_resolution"),
        InChannels = (int)Need(o, "in_channels"),
        OutChannels = (int)Need(o, "out_channels"),
        LabelDim = (int)Need(o, "label_dim"),
        ModelChannels = (int)Need(o, "model_channels"),
        ChannelMult = IntList(o, "channel_mult"),
        ChannelMultEmb = (int)Need(o, "channel_mult_emb"),
        ChannelMultNoise = (int)Need(o, "channel_mult_noise"),
        NumBlocks = (int)Need(o, "num_blocks"),
        AttnResolutions = IntList(o, "attn_resolutions"),
        Dropout = (double)Need(o, "dropout"),
        ResampleFilter = Need(o, "resample_filter").AsArray().Select(n => (double)n!).ToArray(),
        TrajectoryBranch = (bool)Need(o, "trajectory_branch"),
    };

    public static JsonObject Describe(AdmUNetConfig c) => new()
    {
        ["image_size"] = c.ImageSize,
        ["in_channels"] = c.InChannels,
        ["model_channels"] = c.ModelChannels,
        ["out_channels"] = c.OutChannels,
        ["num_res_blocks"] = c.NumResBlocks,
        // UNetModel's constructor argument holds downsample rates (create_model converts the flag's resolutions).
        ["attention_resolutions"] = Ints(c.AttentionDownsampleRates),
        ["dropout"] = c.Dropout,
        ["channel_mult"] = Ints(c.ChannelMult),
        ["conv_resample"] = c.ConvResample,
        ["num_classes"] = c.NumClasses,
        ["num_heads"] = c.NumHeads,
        ["num_head_channels"] = c.NumHeadChannels,
        ["num_heads_upsample"] = c.NumHeadsUpsample,
        ["use_scale_shift_norm"] = c.UseScaleShiftNorm,
        ["resblock_updown"] = c.ResblockUpdown,
        ["trajectory_branch"] = c.TrajectoryBranch,
    };

    public static AdmUNetConfig AdmUNetConfig(JsonObject o) => new()
    {
        ImageSize = (int)Need(o, "image_size"),
        InChannels = (int)Need(o, "in_channels"),
        ModelChannels = (int)Need(o, "model_channels"),
        OutChannels = (int)Need(o, "out_channels"),
        NumResBlocks = (int)Need(o, "num_res_blocks"),
        AttentionDownsampleRates = IntList(o, "attention_resolutions"),
        Dropout = (double)Need(o, "dropout"),
        ChannelMult = IntList(o, "channel_mult"),
        ConvResample = (bool)Need(o, "conv_resample"),
        NumClasses = (int)Need(o, "num_classes"),
        NumHeads = (int)Need(o, "num_heads"),
        NumHeadChannels = (int)Need(o, "num_head_channels"),
        NumHeadsUpsample = (int)Need(o, "num_heads_upsample"),
        UseScaleShiftNorm = (bool)Need(o, "use_scale_shift_norm"),
        ResblockUpdown = (bool)Need(o, "resblock_updown"),
        TrajectoryBranch = (bool)Need(o, "trajectory_branch"),
    };

    public static JsonObject Describe(MlpOptions m) => new()
    {
        ["dimension"] = m.Dimension,
        ["hidden"] = m.Hidden,
        ["blocks"] = m.Blocks,
        ["embedding_channels"] = m.EmbeddingChannels,
        ["embedding_scale"] = m.EmbeddingScale,
    };

    public static MlpOptions MlpOptions(JsonObject o) => new()
    {
        Dimension = (int)Need(o, "dimension"),
        Hidden = (int)Need(o, "hidden"),
        Blocks = (int)Need(o, "blocks"),
        EmbeddingChannels = (int)Need(o, "embedding_channels"),
        EmbeddingScale = (double)Need(o, "embedding_scale"),
    };

    private static JsonArray Ints(IEnumerable<int> values) => new(values.Select(v => (JsonNode?)v).ToArray());

    private static int[] IntList(JsonObject o, string key) => Need(o, key).AsArray().Select(n => (int)n!).ToArray();

    public static string ToText(JsonObject o) => o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
