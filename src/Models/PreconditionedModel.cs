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

    /// <summary>
    /// Host check of one time for the whole batch (the <see cref="double"/>-time overloads), with the messages of the
    /// tensor checks: finite, and within [σ_min, σ_max] up to the grid tolerance.
    /// </summary>
    private protected void CheckTime(double t, string paramName)
    {
        if (!double.IsFinite(t))
            throw new ArgumentException($"{paramName} contains NaN or infinite values; check the data scaling or the step that produced it.", paramName);
        double tol = Schedules.KarrasSchedule.Tolerance;
        if (t < SigmaMin * (1 - tol) || t > SigmaMax * (1 + tol))
            throw new ArgumentOutOfRangeException(paramName, $"{paramName} has values in [{t}, {t}] but must lie in [σ_min, σ_max] = [{SigmaMin}, {SigmaMax}].");
    }

    /// <summary>Whether a time tensor is one CPU scalar, so its scalings can be computed on the host without a device sync.</summary>
    private protected static bool IsHostScalar(Tensor t) => t.dim() == 0 && t.device_type == DeviceType.CPU;

    /// <summary>
    /// g = c_skip(t)·x + c_out(t)·F(c_in(t)·x, τ(t), τ(s)[, labels]) with one t and one s for the whole batch: the EDM
    /// scalings are computed on the host in double, so a call costs the network plus three element-wise kernels
    /// (c_in·x, c_skip·x + c_out·F) and the two time-input vectors, instead of a dozen small tensor operations.
    /// </summary>
    private protected Tensor PreconditionScalar(Tensor x, double t, double s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        double sd = SigmaData, q = t * t + sd * sd, r = 1.0 / Math.Sqrt(q);
        var b = new[] { x.shape[0] };
        var tIn = Net.TimeInput(full(b, t, dtype: x.dtype, device: x.device));
        var sIn = s == t ? tIn : Net.TimeInput(full(b, s, dtype: x.dtype, device: x.device));
        var f = Net.Call(x * r, tIn, sIn, labels);
        return (x * (sd * sd / q)).add(f, alpha: t * sd * r).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same g for per-sample times (training): t broadcast once, c_in = (t² + σ_d²)^−½ computed once and
    /// c_skip = σ_d²·c_in², c_out = t·σ_d·c_in derived from it.
    /// </summary>
    /// <param name="x">x_t.</param>
    /// <param name="t">Times as [B] (already broadcast).</param>
    /// <param name="tb">The same times shaped [B, 1, …] against x.</param>
    /// <param name="s">End times [B] for the network's s input (t again for a denoiser).</param>
    /// <param name="labels">Class ids or null.</param>
    private protected Tensor PreconditionVector(Tensor x, Tensor t, Tensor tb, Tensor s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        double sd = SigmaData;
        var r = (tb.square() + sd * sd).rsqrt();
        var tIn = Net.TimeInput(t);
        var sIn = ReferenceEquals(s, t) ? tIn : Net.TimeInput(s);
        var f = Net.Call(x * r, tIn, sIn, labels);
        return (x * (r.square() * (sd * sd)) + f * (tb * r * sd)).MoveToOuterDisposeScope();
    }

    /// <summary>The constants of g on a fixed time grid (see <see cref="GridConstants"/>), for tensors of
    /// <paramref name="dtype"/> on <paramref name="device"/>; the caller owns the result.</summary>
    internal GridConstants OnGrid(double[] grid, ScalarType dtype, Device device) => GridConstants.Create(grid, SigmaData, Net.TimeInput, dtype, device);

    /// <summary>g with t and s given by grid rows: c_skip·x + c_out·F(c_in·x, τ(t), τ(s)); the same values as
    /// <see cref="PreconditionVector"/> at t = grid[i], s = grid[j], from gathered constants.</summary>
    private protected Tensor PreconditionRows(Tensor x, GridRows t, GridRows s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        var f = NetworkRows(x, t, s, labels);
        return (x * t[GridConstants.CSkip]).addcmul_(f, t[GridConstants.COut], value: 1.0).MoveToOuterDisposeScope();
    }

    /// <summary>F(c_in·x, τ(t), τ(s)) for grid rows: the raw network output (fused solvers build on it).</summary>
    internal Tensor NetworkRows(Tensor x, GridRows t, GridRows s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        return Net.Call(x * t[GridConstants.CIn], t.Tau, s.Tau, labels).MoveToOuterDisposeScope();
    }

    /// <summary>[B, 1, …, 1] with x's rank.</summary>
    private protected static long[] BatchShape(Tensor x)
    {
        var shape = new long[x.dim()];
        shape[0] = x.shape[0];
        for (int i = 1; i < shape.Length; i++) shape[i] = 1;
        return shape;
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

    /// <summary>
    /// The dtype inputs and outputs must have: the network's weights' dtype, or float32 when the weights are bfloat16 or
    /// float16 — reduced-precision inference (e.g. <c>network.to(ScalarType.BFloat16)</c>): only the network computes in
    /// the reduced dtype, behind casts; the preconditioning, samplers and solvers stay float32.
    /// </summary>
    public ScalarType DType => Net.DType ?? ScalarType.Float32;
}
