using System;
using Ctm.Core.Preconditioning;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Models;

/// <summary>
/// The standard <see cref="ITrajectoryModel"/>: CTM's EDM preconditioning around any user network F
/// (official <c>KarrasDenoiser.get_denoised_and_G</c> with <c>inner_parametrization='edm'</c>, outer 'euler').
/// </summary>
/// <remarks>
/// <para>g(x_t,t,s) = c_skip(t)·x_t + c_out(t)·F(c_in(t)·x_t, c_noise(t), c_noise(s)[, labels]);
/// G(x_t,t,s) = (s/t)·x_t + (1 − s/t)·g, with c_noise(σ) = ln(σ)/4 passed as vectors of shape [B] (library networks
/// may use their own time input, e.g. <see cref="Networks.AdmUNet"/>'s 250·ln σ).</para>
/// <para>The network is borrowed: this wrapper never disposes it, moves it, or changes its train/eval mode. Class
/// labels reach the network as int64 ids of shape [B]; one-hot encoding, if any, is the network's business.</para>
/// <para>Ownership: inputs are borrowed; each public method returns one new tensor. Gradients flow normally, so the
/// same object serves sampling (wrap calls in <c>torch.no_grad()</c> or <c>inference_mode()</c>) and training.</para>
/// </remarks>
public sealed class CtmTrajectoryModel : PreconditionedModel, ITrajectoryModel, ITrainableModel, IUncheckedTrajectoryModel
{

    /// <summary>Wraps an unconditional network F(x_in, c_noise(t), c_noise(s)) with the paper's schedule (σ_min 0.002, σ_max 80, σ_data 0.5, ρ 7).</summary>
    /// <param name="network">The raw network (borrowed, never disposed).</param>
    public CtmTrajectoryModel(nn.Module<Tensor, Tensor, Tensor, Tensor> network)
        : this(network, (CtmOptions?)null) { }

    /// <summary>Wraps an unconditional network F(x_in, c_noise(t), c_noise(s)).</summary>
    /// <param name="network">The raw network (borrowed, never disposed).</param>
    /// <param name="options">Schedule constants; null = the paper's.</param>
    /// <remarks>No default value on <paramref name="options"/> on purpose: with one, a DI container could satisfy this
    /// constructor and the <see cref="IOptions{TOptions}"/> one equally and would refuse to build the model.</remarks>
    public CtmTrajectoryModel(nn.Module<Tensor, Tensor, Tensor, Tensor> network, CtmOptions? options)
        : base(new NetworkAdapter(network ?? throw new ArgumentNullException(nameof(network)), (x, ct, cs, _) => network.call(x, ct, cs)), 0, options) { }

    /// <summary>Wraps a class-conditional network F(x_in, c_noise(t), c_noise(s), labels).</summary>
    /// <param name="network">The raw network (borrowed, never disposed).</param>
    /// <param name="numClasses">Number of classes (labels are ids in [0, numClasses)).</param>
    /// <param name="options">Schedule constants; defaults to the paper's.</param>
    public CtmTrajectoryModel(nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor> network, int numClasses, CtmOptions? options = null)
        : base(new NetworkAdapter(network ?? throw new ArgumentNullException(nameof(network)), (x, ct, cs, y) => network.call(x, ct, cs, y!)),
            numClasses >= 1 ? numClasses : throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "A class-conditional model needs at least 1 class."), options)
    { }

    /// <summary>Wraps a network reached through an adapter (library networks such as SongUNet).</summary>
    internal CtmTrajectoryModel(NetworkAdapter network, int numClasses, CtmOptions? options) : base(network, numClasses, options) { }

    /// <summary>Wraps an unconditional network with options from dependency injection.</summary>
    /// <param name="network">The raw network (borrowed).</param>
    /// <param name="options">Options accessor.</param>
    public CtmTrajectoryModel(nn.Module<Tensor, Tensor, Tensor, Tensor> network, IOptions<CtmOptions> options)
        : this(network, FromDi(options)) { }

    /// <inheritdoc />
    public Tensor Jump(Tensor x, Tensor t, Tensor s, Tensor? labels = null)
    {
        Validate(x, t, s, labels);
        return JumpUnchecked(x, t, s, labels);
    }

    /// <inheritdoc />
    public Tensor Predict(Tensor x, Tensor t, Tensor s, Tensor? labels = null)
    {
        Validate(x, t, s, labels);
        return PredictUnchecked(x, t, s, labels);
    }

    /// <inheritdoc />
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels = null)
    {
        Validate(x, sigma, sigma, labels, nameof(sigma), nameof(sigma));
        return PredictUnchecked(x, sigma, sigma, labels);
    }

    /// <inheritdoc cref="ITrajectoryModel.Jump(Tensor, double, double, Tensor?)" />
    public Tensor Jump(Tensor x, double t, double s, Tensor? labels = null)
    {
        Validate(x, t, s, labels);
        return JumpScalar(x, t, s, labels);
    }

    /// <inheritdoc cref="ITrajectoryModel.Predict(Tensor, double, double, Tensor?)" />
    public Tensor Predict(Tensor x, double t, double s, Tensor? labels = null)
    {
        Validate(x, t, s, labels);
        return PreconditionScalar(x, t, s, labels);
    }

    /// <inheritdoc cref="IDenoiser.Denoise(Tensor, double, Tensor?)" />
    public Tensor Denoise(Tensor x, double sigma, Tensor? labels = null)
    {
        Validate(x, sigma, sigma, labels, nameof(sigma), nameof(sigma));
        return PreconditionScalar(x, sigma, sigma, labels);
    }

    /// <summary>G = (s/t)·x + (1 − s/t)·g with host scalings: g.lerp(x, s/t).</summary>
    private Tensor JumpScalar(Tensor x, double t, double s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        return PreconditionScalar(x, t, s, labels).lerp(x, s / t).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The raw network output F(c_in(t)·x_t, c_noise(t), c_noise(s)), e.g. to compare with a reference implementation
    /// (c_noise is the network's time input: ln σ/4, or 250·ln σ for <see cref="Networks.AdmUNet"/>).
    /// </summary>
    /// <param name="x">x_t (borrowed).</param>
    /// <param name="t">Start time(s), scalar or [B].</param>
    /// <param name="s">End time(s), scalar or [B].</param>
    /// <param name="labels">Class ids or null.</param>
    public Tensor RawOutput(Tensor x, Tensor t, Tensor s, Tensor? labels = null)
    {
        Validate(x, t, s, labels);
        return RawOutputUnchecked(x, t, s, labels);
    }

    /// <summary>F(c_in(t)·x_t, c_noise(t), c_noise(s)) without input checks.</summary>
    private Tensor RawOutputUnchecked(Tensor x, Tensor t, Tensor s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        var xIn = EdmPreconditioning.CIn(TimeBroadcast.ToBatch(t, x), SigmaData) * x;
        return Net.Call(xIn, Net.TimeInput(TimeBroadcast.ToVector(t, x)),
            Net.TimeInput(TimeBroadcast.ToVector(s, x)), labels).MoveToOuterDisposeScope();
    }

    /// <summary>G without input checks, for inner loops that already validated (training losses, samplers).</summary>
    internal Tensor JumpUnchecked(Tensor x, Tensor t, Tensor s, Tensor? labels)
    {
        if (IsHostScalar(t) && IsHostScalar(s)) return JumpScalar(x, t.ToDouble(), s.ToDouble(), labels);
        using var scope = NewDisposeScope();
        var (tv, tb, sv, sb) = Times(x, t, s);
        // G = (s/t)·x + (1 − s/t)·g = g.lerp(x, s/t)
        return PreconditionVector(x, tv, tb, sv, labels).lerp(x, sb / tb).MoveToOuterDisposeScope();
    }

    /// <summary>The jump G(x, t_i, t_j) for grid rows of this model's <see cref="GridConstants"/> (training: every time
    /// on the loss's grid); no checks. Equal to <see cref="JumpUnchecked"/> up to float rounding (the constants are
    /// computed in double).</summary>
    internal Tensor JumpRows(Tensor x, GridRows t, GridRows s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        return PreconditionRows(x, t, s, labels).lerp(x, s[GridConstants.T] / t[GridConstants.T]).MoveToOuterDisposeScope();
    }

    /// <summary>g without input checks: c_skip(t)·x + c_out(t)·F (EDM scalings depend on t only).</summary>
    internal Tensor PredictUnchecked(Tensor x, Tensor t, Tensor s, Tensor? labels)
    {
        if (IsHostScalar(t) && IsHostScalar(s)) return PreconditionScalar(x, t.ToDouble(), s.ToDouble(), labels);
        using var scope = NewDisposeScope();
        var (tv, tb, sv, _) = Times(x, t, s);
        return PreconditionVector(x, tv, tb, sv, labels).MoveToOuterDisposeScope();
    }

    /// <summary>t and s as [B] vectors and as [B, 1, …] (s reuses t's tensors when it is the same tensor).</summary>
    private static (Tensor T, Tensor TB, Tensor S, Tensor SB) Times(Tensor x, Tensor t, Tensor s)
    {
        var shape = BatchShape(x);
        var tv = TimeBroadcast.ToVector(t, x);
        var tb = tv.reshape(shape);
        if (ReferenceEquals(s, t)) return (tv, tb, tv, tb);
        var sv = TimeBroadcast.ToVector(s, x);
        return (tv, tb, sv, sv.reshape(shape));
    }

    Tensor IUncheckedTrajectoryModel.JumpUnchecked(Tensor x, Tensor t, Tensor s, Tensor? labels) => JumpUnchecked(x, t, s, labels);

    Tensor IUncheckedModel.DenoiseUnchecked(Tensor x, Tensor sigma, Tensor? labels) => PredictUnchecked(x, sigma, sigma, labels);

    private void Validate(Tensor x, double t, double s, Tensor? labels, string tName = "t", string sName = "s")
    {
        if (x is null) throw new ArgumentNullException(nameof(x));
        if (!Settings.ValidateInputs) return;
        var device = Device;
        TensorGuard.Batch(x, device, nameof(x));
        TensorGuard.DType(x, DType, nameof(x));
        CheckTime(t, tName);
        CheckTime(s, sName);
        if (s > t * (1 + Schedules.KarrasSchedule.Tolerance))
            throw new ArgumentException("s must not exceed t: a CTM jump goes from time t back to an earlier time s ≤ t (swap the arguments?).", sName);
        TensorGuard.Labels(labels, x.shape[0], NumClasses, device);
    }

    private void Validate(Tensor x, Tensor t, Tensor s, Tensor? labels, string tName = "t", string sName = "s")
    {
        if (x is null) throw new ArgumentNullException(nameof(x));
        if (t is null) throw new ArgumentNullException(tName);
        if (s is null) throw new ArgumentNullException(sName);
        if (!Settings.ValidateInputs) return;
        var device = Device;
        TensorGuard.Batch(x, device, nameof(x));
        TensorGuard.DType(x, DType, nameof(x));
        long b = x.shape[0];
        TensorGuard.Times(t, b, SigmaMin, SigmaMax, tName, "[σ_min, σ_max]");
        if (ReferenceEquals(s, t)) { TensorGuard.Labels(labels, b, NumClasses, device); return; }
        TensorGuard.Times(s, b, SigmaMin, SigmaMax, sName, "[σ_min, σ_max]");
        TensorGuard.NotAfter(t, s);
        TensorGuard.Labels(labels, b, NumClasses, device);
    }
}
