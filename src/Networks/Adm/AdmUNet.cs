using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// The official CTM ImageNet-64 network: OpenAI's ADM U-Net (<c>UNetModel</c>, sony/ctm <c>code/cm/unet.py</c>) with
/// CTM's s-branch, with the official state-dict key names, so the official checkpoints (plain <c>UNetModel</c> state
/// dicts) load through <see cref="Ctm.Core.Checkpoints.StateDict"/>. With <see cref="AdmUNetConfig.TrajectoryBranch"/> =
/// false it is the EDM teacher network (keys of the teacher ⊂ keys of the student).
/// </summary>
/// <remarks>
/// <para>F = UNet(x_in, τ(t), τ(s), y) with the time input τ(σ) = 250·ln σ (<see cref="TimeInput"/>, the official
/// <c>rescaling_t</c>), fed to OpenAI's <c>timestep_embedding</c> then <c>time_embed</c> (t) and <c>time_embed_s</c>
/// (s); the class embedding is added to the t-branch only; every ResBlock adds <c>emb_layers_s(emb_s)</c> to
/// <c>emb_layers(emb)</c> before the scale/shift split.</para>
/// <para>Use <see cref="AsTrajectoryModel"/> (student) or <see cref="AsDenoiser"/> (teacher): they apply EDM's c_skip,
/// c_out, c_in and this network's time input, so samplers, losses and the likelihood need no special case. Weight
/// initialisation draws from the generator argument only (PyTorch's default ranges, zero-initialised output
/// convolutions as the official <c>zero_module</c>); dropout in training mode uses TorchSharp's global RNG.</para>
/// </remarks>
public sealed class AdmUNet : nn.Module
{
    // TorchSharp registers Module-typed fields under their field names: the fields below carry the official key names,
    // and the layers inside containers are reached through a plain record.
    private sealed record Parts(Linear TimeEmbed0, Linear TimeEmbed2, Linear? TimeEmbedS0, Linear? TimeEmbedS2, AdmGroupNorm32 OutNorm, Conv2d OutConv);

    private readonly AdmContainer time_embed, input_blocks, output_blocks, @out;
    private readonly AdmContainer? time_embed_s;
    private readonly Embedding? label_emb;
    private readonly AdmTimestepBlock middle_block;
    private readonly List<AdmTimestepBlock> _input = new(), _output = new();
    private readonly Parts _p;

    /// <summary>Builds the network with the official initialisation.</summary>
    /// <param name="config">Architecture; validated first.</param>
    /// <param name="generator">Source of the initial weights (null = TorchSharp's default generator).</param>
    public AdmUNet(AdmUNetConfig config, Generator? generator = null) : base(nameof(AdmUNet))
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        config.Validate();
        int mc = config.ModelChannels, emb = config.EmbChannels;
        var (input, middle, output) = AdmUNetLayout.Build(config);
        int outCh = output[^1][0].OutChannels;
        _p = new Parts(
            TimeEmbed0: nn.Linear(mc, emb), TimeEmbed2: nn.Linear(emb, emb),
            TimeEmbedS0: config.TrajectoryBranch ? nn.Linear(mc, emb) : null, TimeEmbedS2: config.TrajectoryBranch ? nn.Linear(emb, emb) : null,
            OutNorm: new AdmGroupNorm32(outCh), OutConv: nn.Conv2d(outCh, config.OutChannels, 3, padding: 1));
        time_embed = Container("time_embed", ("0", _p.TimeEmbed0), ("2", _p.TimeEmbed2));
        if (config.TrajectoryBranch) time_embed_s = Container("time_embed_s", ("0", _p.TimeEmbedS0!), ("2", _p.TimeEmbedS2!));
        if (config.NumClasses > 0) label_emb = nn.Embedding(config.NumClasses, emb);
        input_blocks = new AdmContainer("input_blocks");
        output_blocks = new AdmContainer("output_blocks");
        for (int i = 0; i < input.Count; i++) _input.Add(input_blocks.Add(Index(i), new AdmTimestepBlock(input[i], config)));
        middle_block = new AdmTimestepBlock(middle, config);
        for (int i = 0; i < output.Count; i++) _output.Add(output_blocks.Add(Index(i), new AdmTimestepBlock(output[i], config)));
        @out = Container("out", ("0", _p.OutNorm), ("2", _p.OutConv));

        register_module("time_embed", time_embed);
        if (time_embed_s is not null) register_module("time_embed_s", time_embed_s);
        if (label_emb is not null) register_module("label_emb", label_emb);
        register_module("input_blocks", input_blocks);
        register_module("middle_block", middle_block);
        register_module("output_blocks", output_blocks);
        register_module("out", @out);
        Initialize(generator);
    }

    /// <summary>The architecture.</summary>
    public AdmUNetConfig Config { get; }

    /// <summary>
    /// The time input of the official ImageNet-64 code, τ(σ) = 250·ln σ (<c>rescaling_t</c> = 1000·0.25·ln(σ + 1e-44)),
    /// element-wise; a new tensor. <see cref="AsTrajectoryModel"/> and <see cref="AsDenoiser"/> apply it.
    /// </summary>
    /// <param name="sigma">Noise levels σ &gt; 0 (borrowed).</param>
    public static Tensor TimeInput(Tensor sigma)
    {
        if (sigma is null) throw new ArgumentNullException(nameof(sigma));
        using var scope = NewDisposeScope();
        return (sigma.log() * 250.0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Weight of the last output block's residual output convolution (<c>output_blocks[-1][0].out_layers[3].weight</c>):
    /// the layer W of CTM's adaptive loss weights on ImageNet-64 (pass it to <see cref="Ctm.Core.Training.CtmLoss"/> as <c>lastLayerWeight</c>).
    /// </summary>
    public Parameter OutputLayerWeight => ((AdmResBlock)_output[^1].Layers[0]).OutConv.weight!;

    /// <summary>F(x_in, τ(t), τ(s), y) → a tensor shaped like x_in.</summary>
    /// <param name="x">Preconditioned input c_in·x_t, [B, C, R, R].</param>
    /// <param name="timesteps">τ(t) = 250·ln t, shape [B].</param>
    /// <param name="timestepsS">τ(s), shape [B], for the s-branch; null skips the branch (as the official code does);
    /// must be null for a network without the branch.</param>
    /// <param name="classLabels">int64 class ids [B] for a class-conditional network (required there), else null.</param>
    public Tensor forward(Tensor x, Tensor timesteps, Tensor? timestepsS = null, Tensor? classLabels = null)
    {
        if (x is null) throw new ArgumentNullException(nameof(x));
        if (timesteps is null) throw new ArgumentNullException(nameof(timesteps));
        if (!Config.TrajectoryBranch && timestepsS is not null)
            throw new ArgumentException("This AdmUNet is an EDM network without the s-branch: pass timestepsS = null, or build it with TrajectoryBranch = true.", nameof(timestepsS));
        TensorGuard.SampleShape(x, new long[] { Config.InChannels, Config.ImageSize, Config.ImageSize }, nameof(x));
        TensorGuard.Labels(classLabels, x.shape[0], Config.NumClasses, x.device);
        CheckTimes(timesteps, x, nameof(timesteps));
        if (timestepsS is not null) CheckTimes(timestepsS, x, nameof(timestepsS));

        using var scope = NewDisposeScope();
        var emb = Embed(timesteps, _p.TimeEmbed0, _p.TimeEmbed2);
        var embS = timestepsS is null ? null : Embed(timestepsS, _p.TimeEmbedS0!, _p.TimeEmbedS2!);
        if (label_emb is not null) emb = emb + label_emb.call(classLabels!.to_type(ScalarType.Int64));

        var skips = new Stack<Tensor>();
        var h = x;
        foreach (var block in _input)
        {
            h = block.forward(h, emb, embS);
            skips.Push(h);
        }
        h = middle_block.forward(h, emb, embS);
        foreach (var block in _output) h = block.forward(cat(new[] { h, skips.Pop() }, 1), emb, embS);
        return _p.OutConv.call(nn.functional.silu(_p.OutNorm.call(h))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loads weights saved by PyTorch (<c>torch.save(state_dict)</c> .pt/.pth) or safetensors, e.g. the official
    /// ImageNet-64 CTM checkpoint (<c>ema_0.999_049000.pt</c>) or the EDM teacher (<c>edm_imagenet64_ema.pt</c>).
    /// </summary>
    /// <param name="path">.pth/.pt/.bin or .safetensors file.</param>
    /// <param name="prefix">Key prefix to strip; null = detect <c>model.</c>; "" = none.</param>
    /// <returns>This network, for chaining.</returns>
    /// <exception cref="Ctm.Core.Checkpoints.StateDictMismatchException">A key is missing, unexpected or mis-shaped (named in the message).</exception>
    public AdmUNet LoadWeights(string path, string? prefix = null)
    {
        Ctm.Core.Checkpoints.StateDict.Load(this, path, prefix);
        return this;
    }

    /// <summary>Builds a network of <paramref name="config"/> and loads <paramref name="path"/> into it, in eval mode.</summary>
    /// <param name="config">The architecture the checkpoint was trained with (e.g. <see cref="AdmUNetConfig.ImageNet64"/>).</param>
    /// <param name="path">.pt/.pth or .safetensors file.</param>
    /// <param name="device">Where to put the weights (null = CPU).</param>
    public static AdmUNet FromCheckpoint(AdmUNetConfig config, string path, Device? device = null)
        => Ctm.Core.Checkpoints.StateDict.LoadForInference(new AdmUNet(config), path, device);

    /// <summary>
    /// The CTM student: EDM/CTM preconditioning around this network with its 250·ln σ time input (needs the s-branch).
    /// The network stays owned by the caller.
    /// </summary>
    /// <param name="options">Schedule constants; defaults to the paper's (σ_min 0.002, σ_max 80, σ_data 0.5, ρ 7).</param>
    public CtmTrajectoryModel AsTrajectoryModel(CtmOptions? options = null)
    {
        if (!Config.TrajectoryBranch)
            throw new InvalidOperationException("This AdmUNet has no s-branch (TrajectoryBranch = false), so it cannot jump from t to s; use AsDenoiser(), or build a student with config.AsStudent().");
        return new CtmTrajectoryModel(new NetworkAdapter(this, (x, t, s, y) => forward(x, t, s, y), TimeInput), Config.NumClasses, options);
    }

    /// <summary>The EDM teacher D(x, σ): preconditioning around this network (which must not have the s-branch).</summary>
    /// <param name="options">Schedule constants; defaults to the paper's.</param>
    public EdmDenoiser AsDenoiser(CtmOptions? options = null)
    {
        if (Config.TrajectoryBranch)
            throw new InvalidOperationException("This AdmUNet has CTM's s-branch; its denoiser is AsTrajectoryModel().Denoise (g on the diagonal s = t). AsDenoiser() is for EDM teacher networks (TrajectoryBranch = false).");
        return new EdmDenoiser(new NetworkAdapter(this, (x, t, _, y) => forward(x, t, null, y), TimeInput), Config.NumClasses, options);
    }

    private Tensor Embed(Tensor timesteps, Linear layer0, Linear layer2)
    {
        var e = AdmTimestepEmbedding.Compute(timesteps, Config.ModelChannels).to(layer0.weight!.dtype);
        return layer2.call(nn.functional.silu(layer0.call(e)));
    }

    private static void CheckTimes(Tensor t, Tensor x, string name)
    {
        if (t.dim() != 1 || t.shape[0] != x.shape[0])
            throw new ArgumentException($"{name} must have shape [{x.shape[0]}] (one time input per sample), got [{string.Join(", ", t.shape)}].", name);
    }

    /// <summary>PyTorch's default ranges from the generator; zero-initialised output convolutions (official <c>zero_module</c>).</summary>
    private void Initialize(Generator? generator)
    {
        using var noGrad = no_grad();
        if (generator is not null)
        {
            DefaultInit.Redraw(this, generator);
            label_emb?.weight!.normal_(0, 1, generator);
        }
        var zeroed = new List<Conv2d> { _p.OutConv };
        foreach (var block in _input.Append(middle_block).Concat(_output))
            foreach (var layer in block.Layers)
                if (layer is AdmResBlock res) zeroed.Add(res.OutConv);
                else if (layer is AdmAttentionBlock attn) zeroed.Add(attn.ProjOut);
        foreach (var conv in zeroed)
        {
            conv.weight!.zero_();
            conv.bias?.zero_();
        }
    }

    private static string Index(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static AdmContainer Container(string name, params (string Key, nn.Module Module)[] children)
    {
        var c = new AdmContainer(name);
        foreach (var (key, module) in children) c.Add(key, module);
        return c;
    }
}
