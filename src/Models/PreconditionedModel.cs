using System;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Models;

/// <summary>
/// What <see cref="CtmTrajectoryModel"/> and <see cref="EdmDenoiser"/> share: a borrowed user network, the schedule
/// constants, and the device/dtype read from the network's weights.
/// </summary>
public abstract class PreconditionedModel
{
    private protected readonly NetworkAdapter Net;
    private protected readonly CtmOptions Settings;

    private protected PreconditionedModel(NetworkAdapter net, int numClasses, CtmOptions? options)
    {
        Net = net;
        if (numClasses < 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "numClasses must be ≥ 0.");
        NumClasses = numClasses;
        Settings = (options ?? new CtmOptions()).Clone();
        Settings.Validate();
    }

    /// <summary>Reads options from dependency injection.</summary>
    /// <param name="options">Options accessor.</param>
    private protected static CtmOptions FromDi(IOptions<CtmOptions> options) => (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <summary>The wrapped network (borrowed; owned by the caller, never disposed here).</summary>
    public nn.Module Network => Net.Module;

    /// <summary>A copy of the options in force.</summary>
    public CtmOptions Options => Settings.Clone();

    /// <summary>σ_min.</summary>
    public double SigmaMin => Settings.SigmaMin;

    /// <summary>σ_max.</summary>
    public double SigmaMax => Settings.SigmaMax;

    /// <summary>σ_data.</summary>
    public double SigmaData => Settings.SigmaData;

    /// <summary>ρ of the Karras grids built for this model.</summary>
    public double Rho => Settings.Rho;

    /// <summary>Number of classes (0 = unconditional).</summary>
    public int NumClasses { get; }

    /// <summary>The device of the network's weights.</summary>
    public Device Device => Net.Device;

    /// <summary>The dtype of the network's weights (inputs must match).</summary>
    public ScalarType DType => Net.DType ?? ScalarType.Float32;
}
