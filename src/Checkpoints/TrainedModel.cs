using System;
using System.IO;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Ctm.Core.Checkpoints;

/// <summary>
/// A trained model as one file set: <c>name.json</c> (which library network, its configuration, the schedule σ_min,
/// σ_max, σ_data, ρ and the sample shape) next to <c>name.safetensors</c> (the weights). <see cref="Load"/> gives back a
/// ready model and samplers.
/// </summary>
/// <remarks>
/// <para>The weights file is a plain safetensors file keyed by the network's state-dict names, which for
/// <see cref="SongUNet"/> and <see cref="AdmUNet"/> are the official CTM/EDM names (<c>map_layer0.weight</c>,
/// <c>enc.32x32_conv.weight</c>, …; <c>time_embed.0.weight</c>, <c>input_blocks.1.0.in_layers.0.weight</c>, …): PyTorch
/// reads it with <c>safetensors.torch.load_file</c> and loads it into the official <c>SongUNet</c> / <c>UNetModel</c> with
/// <c>load_state_dict</c>. The JSON names their settings as the official constructors do (<c>img_resolution</c>,
/// <c>model_channels</c>, <c>channel_mult</c>, …; <c>image_size</c>, <c>num_res_blocks</c>, …). A loaded network gets its
/// own time-input convention back with its kind (AdmUNet: 250·ln σ).</para>
/// <para>Supported networks: <see cref="SongUNet"/>, <see cref="AdmUNet"/> (CTM students or EDM teachers, by their
/// s-branch), <see cref="TrajectoryMlp"/> (CTM students) and <see cref="DenoiserMlp"/> (EDM teachers). Training checkpoints (<see cref="Training.CtmTrainer.SaveCheckpoint"/>) are a
/// different thing: they hold optimiser and RNG state to resume a run; this holds what a user of the model needs.</para>
/// <para>Ownership: a loaded <see cref="TrainedModel"/> owns its network; dispose it when done.</para>
/// </remarks>
public sealed class TrainedModel : IDisposable
{
    private TrainedModel(nn.Module network, IDenoiser model, long[] sampleShape)
    {
        Network = network;
        Model = model;
        SampleShape = sampleShape;
    }

    /// <summary>The network holding the weights (owned by this object).</summary>
    public nn.Module Network { get; }

    /// <summary>The preconditioned model: an <see cref="ITrajectoryModel"/> for CTM students, an <see cref="IDenoiser"/> for teachers.</summary>
    public IDenoiser Model { get; }

    /// <summary>The CTM model, or null when the file set holds an EDM teacher.</summary>
    public ITrajectoryModel? TrajectoryModel => Model as ITrajectoryModel;

    /// <summary>Shape of one sample.</summary>
    public long[] SampleShape { get; }

    /// <summary>A γ-sampler over the model (NFE = jumps).</summary>
    /// <exception cref="InvalidOperationException">The file set holds a teacher (no jumps); use <see cref="CreateDiffusionSampler"/>.</exception>
    public GammaSampler CreateGammaSampler() => new(TrajectoryModel
        ?? throw new InvalidOperationException("This model is an EDM denoiser (a teacher) and cannot jump; sample it with CreateDiffusionSampler()."), SampleShape);

    /// <summary>A probability-flow ODE sampler over the model (its diagonal for a CTM model); Heun by default.</summary>
    /// <param name="solver">The ODE solver; Heun when null.</param>
    public DiffusionSampler CreateDiffusionSampler(IOdeSolver? solver = null) => new(Model, SampleShape, solver);

    /// <summary>
    /// Writes <paramref name="network"/> as <c>path</c> (JSON) plus the weights next to it (same name, extension
    /// <c>.safetensors</c>). Both files are written to temporary names first and then moved into place.
    /// </summary>
    /// <param name="path">The JSON file to write, e.g. <c>models/ctm-ring.json</c>.</param>
    /// <param name="network">A <see cref="SongUNet"/>, <see cref="AdmUNet"/>, <see cref="TrajectoryMlp"/> or <see cref="DenoiserMlp"/> (borrowed).</param>
    /// <param name="sampleShape">Shape of one sample, e.g. [2] or [1, 16, 16].</param>
    /// <param name="schedule">The schedule the network was trained with; the paper's when null.</param>
    /// <exception cref="ArgumentException">The network is not one of the supported types, or an argument is invalid.</exception>
    public static void Save(string path, nn.Module network, long[] sampleShape, CtmOptions? schedule = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("path must name the JSON file to write, e.g. 'models/ctm.json'.", nameof(path));
        if (network is null) throw new ArgumentNullException(nameof(network));
        if (sampleShape is null || sampleShape.Length == 0 || Array.Exists(sampleShape, d => d < 1))
            throw new ArgumentException("sampleShape must list the positive sizes of one sample, e.g. [2] or [1, 28, 28].", nameof(sampleShape));
        var s = (schedule ?? new CtmOptions()).Clone();
        s.Validate();
        var (kind, config) = network switch
        {
            SongUNet u => ("SongUNet", ModelManifest.Describe(u.Config)),
            AdmUNet a => ("AdmUNet", ModelManifest.Describe(a.Config)),
            TrajectoryMlp m => ("TrajectoryMlp", ModelManifest.Describe(m.Options)),
            DenoiserMlp m => ("DenoiserMlp", ModelManifest.Describe(m.Options)),
            _ => throw new ArgumentException($"{network.GetType().Name} is not a library network this file set can describe (SongUNet, AdmUNet, TrajectoryMlp, " +
                "DenoiserMlp). Save your own network's weights with module.save_safetensors and rebuild it yourself.", nameof(network)),
        };
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var weights = Path.ChangeExtension(full, ".safetensors");
        var manifest = new ModelManifest(kind, config, s, (long[])sampleShape.Clone(), Path.GetFileName(weights));
        string tmp = "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            network.save_safetensors(weights + tmp);
            File.WriteAllText(full + tmp, ModelManifest.ToText(manifest.ToJson()));
            File.Move(weights + tmp, weights, overwrite: true);
            File.Move(full + tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(weights + tmp)) File.Delete(weights + tmp);
            if (File.Exists(full + tmp)) File.Delete(full + tmp);
        }
    }

    /// <summary>Loads a file set written by <see cref="Save"/>: builds the network, loads the weights (strict), switches it to eval mode.</summary>
    /// <param name="path">The JSON file.</param>
    /// <param name="device">Where to put the weights; CPU when null.</param>
    /// <exception cref="FileNotFoundException">The JSON or the weights file is missing.</exception>
    /// <exception cref="InvalidDataException">The JSON is not a Ctm.Core model description.</exception>
    /// <exception cref="StateDictMismatchException">The weights do not fit the described network.</exception>
    public static TrainedModel Load(string path, Device? device = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("path must name a model JSON file written by TrainedModel.Save.", nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"No model description at '{path}'.", path);
        var m = ModelManifest.Parse(File.ReadAllText(path), path);
        m.Schedule.Validate();
        var weights = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, m.Weights);
        if (!File.Exists(weights)) throw new FileNotFoundException($"The weights file '{weights}' named by '{path}' is missing.", weights);
        nn.Module network = m.Network switch
        {
            "SongUNet" => new SongUNet(ModelManifest.SongUNetConfig(m.Config)),
            "AdmUNet" => new AdmUNet(ModelManifest.AdmUNetConfig(m.Config)),
            "TrajectoryMlp" => new TrajectoryMlp(ModelManifest.MlpOptions(m.Config)),
            "DenoiserMlp" => new DenoiserMlp(ModelManifest.MlpOptions(m.Config)),
            _ => throw new InvalidDataException($"'{path}' describes a network '{m.Network}' this version of Ctm.Core does not know."),
        };
        try
        {
            StateDict.Load(network, weights, prefix: "");
            if (device is not null) network.to(device);
            network.eval();
            IDenoiser model = network switch
            {
                SongUNet u => u.Config.TrajectoryBranch ? u.AsTrajectoryModel(m.Schedule) : u.AsDenoiser(m.Schedule),
                AdmUNet a => a.Config.TrajectoryBranch ? a.AsTrajectoryModel(m.Schedule) : a.AsDenoiser(m.Schedule),
                TrajectoryMlp t => new CtmTrajectoryModel(t, m.Schedule),
                _ => new EdmDenoiser((DenoiserMlp)network, m.Schedule),
            };
            return new TrainedModel(network, model, m.SampleShape);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the network.</summary>
    public void Dispose() => Network.Dispose();
}
