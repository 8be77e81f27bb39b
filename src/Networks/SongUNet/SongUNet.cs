using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// The official CTM CIFAR-10 network: EDM's DDPM++ <c>SongUNet</c> with CTM's s-branch (<c>cm/networks.py</c>),
/// with the official state-dict key names, so a checkpoint saved by the official code loads through
/// <see cref="Ctm.Core.Checkpoints.StateDict"/>. With <see cref="SongUNetConfig.TrajectoryBranch"/> = false it is the EDM
/// teacher network (keys of the teacher ⊂ keys of the student).
/// </summary>
/// <remarks>
/// <para>F = SongUNet(x_in, c_noise(t), c_noise(s), labels): the t- and s-noise labels each go through the positional
/// embedding (sin/cos halves swapped), plus the label map, then two SiLU-linear layers (<c>map_layer*</c> and
/// <c>map_layer*_s</c>); every block adds affine(emb) + affine_s(emb_s).</para>
/// <para>Use <see cref="AsTrajectoryModel"/> (student) or <see cref="AsDenoiser"/> (teacher) to get the
/// preconditioned CTM/EDM model. Weight initialisation draws from the generator argument only; dropout in training
/// mode uses TorchSharp's global RNG (libtorch offers no generator for it).</para>
/// </remarks>
public sealed class SongUNet : nn.Module
{
    private readonly EdmLinear? map_label;
    private readonly EdmLinear map_layer0, map_layer1;
    private readonly EdmLinear? map_layer0_s, map_layer1_s;
    private readonly NamedModules enc, dec;
    private readonly List<(SongUNetLayer Spec, nn.Module Module)> _encoder = new(), _decoder = new();

    /// <summary>Builds the network with the official initialisation.</summary>
    /// <param name="config">Architecture; validated first.</param>
    /// <param name="generator">Source of the initial weights (null = TorchSharp's default generator).</param>
    public SongUNet(SongUNetConfig config, Generator? generator = null) : base(nameof(SongUNet))
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        config.Validate();
        int noise = config.NoiseChannels, emb = config.EmbChannels;
        if (config.LabelDim > 0) map_label = new EdmLinear(config.LabelDim, noise, 1.0, generator);
        map_layer0 = new EdmLinear(noise, emb, 1.0, generator);
        map_layer1 = new EdmLinear(emb, emb, 1.0, generator);
        if (config.TrajectoryBranch)
        {
            map_layer0_s = new EdmLinear(noise, emb, 1.0, generator);
            map_layer1_s = new EdmLinear(emb, emb, 1.0, generator);
        }
        enc = new NamedModules("enc");
        dec = new NamedModules("dec");
        var (encoder, decoder) = SongUNetLayout.Build(config);
        foreach (var spec in encoder) _encoder.Add((spec, enc.Add(spec.Name, Create(spec, config, generator))));
        foreach (var spec in decoder) _decoder.Add((spec, dec.Add(spec.Name, Create(spec, config, generator))));

        if (map_label is not null) register_module("map_label", map_label);
        register_module("map_layer0", map_layer0);
        register_module("map_layer1", map_layer1);
        if (map_layer0_s is not null) register_module("map_layer0_s", map_layer0_s);
        if (map_layer1_s is not null) register_module("map_layer1_s", map_layer1_s);
        register_module("enc", enc);
        register_module("dec", dec);
    }

    /// <summary>The architecture.</summary>
    public SongUNetConfig Config { get; }

    /// <summary>
    /// Weight of the output convolution (<c>dec.{R}x{R}_aux_conv.weight</c>): the "last layer" W of CTM's adaptive
    /// loss weights (pass it to <see cref="Ctm.Core.Training.CtmLoss"/> as <c>lastLayerWeight</c>).
    /// </summary>
    public TorchSharp.Modules.Parameter OutputLayerWeight => ((EdmConv2d)_decoder[^1].Module).Weight!;

    /// <summary>
    /// F(x_in, c_noise(t), c_noise(s), labels) → a tensor shaped like x_in.
    /// </summary>
    /// <param name="x">Preconditioned input c_in·x_t, [B, C, R, R].</param>
    /// <param name="noiseLabels">c_noise(t), shape [B].</param>
    /// <param name="noiseLabelsS">c_noise(s), shape [B]; required with the s-branch, must be null without it.</param>
    /// <param name="classLabels">int64 class ids [B] or float one-hot/soft labels [B, label_dim]; null for an
    /// unconditional network (for a conditional one, null means the all-zero label vector, as EDM does).</param>
    public Tensor forward(Tensor x, Tensor noiseLabels, Tensor? noiseLabelsS = null, Tensor? classLabels = null)
    {
        if (x is null) throw new ArgumentNullException(nameof(x));
        if (noiseLabels is null) throw new ArgumentNullException(nameof(noiseLabels));
        if (Config.TrajectoryBranch && noiseLabelsS is null)
            throw new ArgumentNullException(nameof(noiseLabelsS), "This SongUNet has CTM's s-branch: pass c_noise(s) (use s = t for the denoiser).");
        if (!Config.TrajectoryBranch && noiseLabelsS is not null)
            throw new ArgumentException("This SongUNet is an EDM network without the s-branch: pass noiseLabelsS = null, or build it with TrajectoryBranch = true.", nameof(noiseLabelsS));
        TensorGuard.SampleShape(x, new long[] { Config.InChannels, Config.ImgResolution, Config.ImgResolution }, nameof(x));

        using var scope = NewDisposeScope();
        var label = LabelVector(classLabels, x);
        var emb = Embed(noiseLabels, label, map_layer0, map_layer1, x);
        var embS = noiseLabelsS is null ? null : Embed(noiseLabelsS, label, map_layer0_s!, map_layer1_s!, x);

        var skips = new Stack<Tensor>();
        foreach (var (_, module) in _encoder)
        {
            x = module is UNetBlock block ? block.forward(x, emb, embS) : ((EdmConv2d)module).call(x);
            skips.Push(x);
        }
        Tensor? tmp = null;
        foreach (var (spec, module) in _decoder)
        {
            switch (spec.Kind)
            {
                case SongUNetLayerKind.OutputNorm: tmp = ((nn.Module<Tensor, Tensor>)module).call(x); break;
                case SongUNetLayerKind.OutputConv: tmp = ((EdmConv2d)module).call(nn.functional.silu(tmp!)); break;
                default:
                    var block = (UNetBlock)module;
                    if (x.shape[1] != block.InChannels) x = cat(new[] { x, skips.Pop() }, 1);
                    x = block.forward(x, emb, embS);
                    break;
            }
        }
        return tmp!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loads weights saved by PyTorch (<c>torch.save(state_dict)</c> .pth) or safetensors, e.g. an official CTM or
    /// EDM checkpoint; the official student's <c>model.</c> prefix is stripped automatically.
    /// </summary>
    /// <param name="path">.pth/.pt/.bin or .safetensors file.</param>
    /// <param name="prefix">Key prefix to strip; null = detect <c>model.</c>; "" = none.</param>
    /// <returns>This network, for chaining.</returns>
    /// <exception cref="Ctm.Core.Checkpoints.StateDictMismatchException">A key is missing, unexpected or mis-shaped (named in the message).</exception>
    public SongUNet LoadWeights(string path, string? prefix = null)
    {
        Ctm.Core.Checkpoints.StateDict.Load(this, path, prefix);
        return this;
    }

    /// <summary>Builds a network of <paramref name="config"/> and loads <paramref name="path"/> into it, in eval mode.</summary>
    /// <param name="config">The architecture the checkpoint was trained with.</param>
    /// <param name="path">.pth or .safetensors file.</param>
    /// <param name="device">Where to put the weights (null = CPU).</param>
    public static SongUNet FromCheckpoint(SongUNetConfig config, string path, Device? device = null)
        => Ctm.Core.Checkpoints.StateDict.LoadForInference(new SongUNet(config), path, device);

    /// <summary>
    /// The CTM student: EDM/CTM preconditioning around this network (needs the s-branch). The network stays owned by
    /// the caller.
    /// </summary>
    /// <param name="options">Schedule constants; defaults to the paper's.</param>
    public CtmTrajectoryModel AsTrajectoryModel(CtmOptions? options = null)
    {
        if (!Config.TrajectoryBranch)
            throw new InvalidOperationException("This SongUNet has no s-branch (TrajectoryBranch = false), so it cannot jump from t to s; use AsDenoiser(), or build a student with config.AsStudent().");
        return new CtmTrajectoryModel(new NetworkAdapter(this, (x, ct, cs, y) => forward(x, ct, cs, y)), Config.LabelDim, options);
    }

    /// <summary>The EDM teacher D(x, σ): preconditioning around this network (which must not have the s-branch).</summary>
    /// <param name="options">Schedule constants; defaults to the paper's.</param>
    public EdmDenoiser AsDenoiser(CtmOptions? options = null)
    {
        if (Config.TrajectoryBranch)
            throw new InvalidOperationException("This SongUNet has CTM's s-branch; its denoiser is AsTrajectoryModel().Denoise (g on the diagonal s = t). AsDenoiser() is for EDM teacher networks (TrajectoryBranch = false).");
        return new EdmDenoiser(new NetworkAdapter(this, (x, c, _, y) => forward(x, c, null, y)), Config.LabelDim, options);
    }

    private Tensor? LabelVector(Tensor? classLabels, Tensor x)
    {
        if (map_label is null)
        {
            if (classLabels is not null)
                throw new ArgumentException("This SongUNet is unconditional (LabelDim = 0): pass classLabels = null.", nameof(classLabels));
            return null;
        }
        int n = Config.LabelDim;
        if (classLabels is null) return zeros(new[] { x.shape[0], (long)n }, dtype: x.dtype, device: x.device);
        if (classLabels.dtype is ScalarType.Int64 or ScalarType.Int32)
        {
            TensorGuard.Labels(classLabels, x.shape[0], n, x.device); // shape [B], ids in [0, label_dim)
            return nn.functional.one_hot(classLabels.to_type(ScalarType.Int64), n).to(x.dtype);
        }
        if (classLabels.dim() != 2 || classLabels.shape[0] != x.shape[0] || classLabels.shape[1] != n)
            throw new ArgumentException($"Floating classLabels must be one-hot or soft labels of shape [{x.shape[0]}, {n}].", nameof(classLabels));
        return classLabels.to(x.dtype);
    }

    private Tensor Embed(Tensor noiseLabels, Tensor? label, EdmLinear layer0, EdmLinear layer1, Tensor x)
    {
        // Positional embedding with endpoint, halves swapped: [sin(c·f), cos(c·f)], f_i = (1/10000)^(i/(half−1)).
        int half = Config.NoiseChannels / 2;
        var freqs = pow(1e-4, arange(half, dtype: ScalarType.Float32, device: x.device) / (half - 1));
        var arg = outer(noiseLabels.reshape(-1).to(ScalarType.Float32), freqs);
        var e = cat(new[] { arg.sin(), arg.cos() }, 1).to(x.dtype);
        if (label is not null) e = e + map_label!.call(label * Math.Sqrt(Config.LabelDim));
        e = nn.functional.silu(layer0.call(e));
        return nn.functional.silu(layer1.call(e));
    }

    private static nn.Module Create(SongUNetLayer spec, SongUNetConfig c, Generator? g) => spec.Kind switch
    {
        SongUNetLayerKind.InputConv => new EdmConv2d(spec.InChannels, spec.OutChannels, 3, 1.0, g),
        SongUNetLayerKind.OutputNorm => new EdmGroupNorm(spec.InChannels, 1e-6),
        SongUNetLayerKind.OutputConv => new EdmConv2d(spec.InChannels, spec.OutChannels, 3, 1e-5, g),
        _ => new UNetBlock(spec, c, g),
    };

    /// <summary>A container whose children are registered under explicit names (like <c>torch.nn.ModuleDict</c>).</summary>
    private sealed class NamedModules : nn.Module
    {
        public NamedModules(string name) : base(name) { }

        public nn.Module Add(string name, nn.Module module)
        {
            register_module(name, module);
            return module;
        }
    }
}
