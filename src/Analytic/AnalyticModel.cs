using System;
using Ctm.Core.Preconditioning;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Analytic;

/// <summary>
/// Base of the exact analytic models: data laws whose denoiser, score, density and trajectory map G* are known
/// exactly (or to ODE-solver accuracy). They implement <see cref="ITrajectoryModel"/>, so users can test their own
/// pipelines — samplers, losses, likelihood — against ground truth.
/// </summary>
/// <remarks>
/// Inputs are [B, D] batches in <see cref="DType"/> on <see cref="Device"/>; internally everything is float64 and
/// results are cast back. The model owns a few small parameter tensors: dispose it when done.
/// </remarks>
public abstract class AnalyticModel : ITrajectoryModel, IDisposable
{
    private readonly CtmOptions _options;

    /// <summary>Initialises the shared settings.</summary>
    /// <param name="dimension">Data dimension D ≥ 1.</param>
    /// <param name="numClasses">Classes (0 = unconditional).</param>
    /// <param name="options">Schedule constants (σ_min, σ_max, σ_data, ρ); defaults to the paper's.</param>
    /// <param name="dtype">Floating dtype of inputs and outputs.</param>
    /// <param name="device">Device; CPU by default.</param>
    protected AnalyticModel(int dimension, int numClasses, CtmOptions? options, ScalarType dtype, Device? device)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The data dimension must be at least 1.");
        if (dtype != ScalarType.Float32 && dtype != ScalarType.Float64 && dtype != ScalarType.Float16 && dtype != ScalarType.BFloat16)
            throw new ArgumentException($"dtype must be a floating type, got {dtype}.", nameof(dtype));
        _options = (options ?? new CtmOptions()).Clone();
        _options.Validate();
        Dimension = dimension;
        NumClasses = numClasses;
        DType = dtype;
        Device = device ?? CPU;
    }

    /// <summary>Data dimension D.</summary>
    public int Dimension { get; }

    /// <inheritdoc />
    public double SigmaMin => _options.SigmaMin;

    /// <inheritdoc />
    public double SigmaMax => _options.SigmaMax;

    /// <inheritdoc />
    public double SigmaData => _options.SigmaData;

    /// <inheritdoc />
    public double Rho => _options.Rho;

    /// <inheritdoc />
    public Device Device { get; }

    /// <inheritdoc />
    public ScalarType DType { get; }

    /// <inheritdoc />
    public int NumClasses { get; }

    /// <inheritdoc />
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels = null)
    {
        Validate(x, sigma, sigma, labels);
        using var scope = NewDisposeScope();
        var x64 = x.to_type(ScalarType.Float64);
        var d = DenoiseCore(x64, Times64(sigma, x64), labels);
        return d.to_type(x.dtype).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Predict(Tensor x, Tensor t, Tensor s, Tensor? labels = null)
    {
        Validate(x, t, s, labels);
        using var scope = NewDisposeScope();
        var x64 = x.to_type(ScalarType.Float64);
        return PredictCore(x64, Times64(t, x64), Times64(s, x64), labels).to_type(x.dtype).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Jump(Tensor x, Tensor t, Tensor s, Tensor? labels = null)
    {
        Validate(x, t, s, labels);
        using var scope = NewDisposeScope();
        var x64 = x.to_type(ScalarType.Float64);
        var t64 = Times64(t, x64);
        var s64 = Times64(s, x64);
        var g = PredictCore(x64, t64, s64, labels);
        return CtmJump.Apply(x64, g, t64, s64).to_type(x.dtype).MoveToOuterDisposeScope();
    }

    /// <inheritdoc cref="ITrajectoryModel.Jump(Tensor, double, double, Tensor?)" />
    public Tensor Jump(Tensor x, double t, double s, Tensor? labels = null) => ScalarTimes.Jump(this, x, t, s, labels);

    /// <inheritdoc cref="ITrajectoryModel.Predict(Tensor, double, double, Tensor?)" />
    public Tensor Predict(Tensor x, double t, double s, Tensor? labels = null) => ScalarTimes.Predict(this, x, t, s, labels);

    /// <inheritdoc cref="IDenoiser.Denoise(Tensor, double, Tensor?)" />
    public Tensor Denoise(Tensor x, double sigma, Tensor? labels = null) => ScalarTimes.Denoise(this, x, sigma, labels);

    /// <summary>Draws <paramref name="n"/> samples of the clean data law (class-conditional when labels are given).</summary>
    /// <param name="n">Number of samples.</param>
    /// <param name="generator">Source of randomness.</param>
    /// <param name="labels">Class ids [n] to condition on, or null for the full law.</param>
    /// <returns>A new [n, D] tensor in <see cref="DType"/>.</returns>
    public abstract Tensor SampleData(int n, Generator generator, Tensor? labels = null);

    /// <summary>log p_σ(x): the log density of the data law convolved with N(0, σ²I) (σ = 0: the data law itself).</summary>
    /// <param name="x">Points [B, D] (borrowed).</param>
    /// <param name="sigma">Noise level σ ≥ 0.</param>
    /// <param name="labels">Class ids [B] to condition on, or null.</param>
    /// <returns>A new float64 tensor [B].</returns>
    public abstract Tensor LogDensity(Tensor x, double sigma = 0.0, Tensor? labels = null);

    /// <summary>Exact D(x, σ) in float64; <paramref name="sigma"/> has shape [B, 1].</summary>
    /// <param name="x">float64 [B, D].</param>
    /// <param name="sigma">float64 [B, 1].</param>
    /// <param name="labels">Class ids or null.</param>
    protected abstract Tensor DenoiseCore(Tensor x, Tensor sigma, Tensor? labels);

    /// <summary>Exact g*(x, t, s) in float64 (t, s of shape [B, 1]); must equal <see cref="DenoiseCore"/> at s = t.</summary>
    /// <param name="x">float64 [B, D].</param>
    /// <param name="t">float64 [B, 1].</param>
    /// <param name="s">float64 [B, 1].</param>
    /// <param name="labels">Class ids or null.</param>
    protected abstract Tensor PredictCore(Tensor x, Tensor t, Tensor s, Tensor? labels);

    /// <summary>Checks a [B, D] batch argument for the public density/sampling helpers.</summary>
    /// <param name="x">The batch.</param>
    /// <param name="paramName">Argument name.</param>
    protected void CheckPoints(Tensor x, string paramName)
    {
        TensorGuard.Batch(x, Device, paramName);
        if (x.dim() != 2 || x.shape[1] != Dimension)
            throw new ArgumentException($"{paramName} must have shape [B, {Dimension}], got [{TensorGuard.Shape(x)}].", paramName);
    }

    /// <summary>Turns a tensor built here into one owned by this model (not by any caller's dispose scope).</summary>
    /// <param name="t">The tensor.</param>
    protected static Tensor Keep(Tensor t) => t.DetachFromDisposeScope();

    private static Tensor Times64(Tensor t, Tensor x64) => TimeBroadcast.ToBatch(t, x64);

    private void Validate(Tensor x, Tensor t, Tensor s, Tensor? labels)
    {
        if (x is null) throw new ArgumentNullException(nameof(x));
        string tName = ReferenceEquals(t, s) ? "sigma" : nameof(t);   // Denoise(x, sigma) passes sigma twice
        if (t is null) throw new ArgumentNullException(tName);
        if (s is null) throw new ArgumentNullException(nameof(s));
        CheckPoints(x, nameof(x));
        TensorGuard.DType(x, DType, nameof(x));
        if (!_options.ValidateInputs) return;
        long b = x.shape[0];
        TensorGuard.Times(t, b, SigmaMin, SigmaMax, tName, "[σ_min, σ_max]");
        if (!ReferenceEquals(t, s))
        {
            TensorGuard.Times(s, b, SigmaMin, SigmaMax, nameof(s), "[σ_min, σ_max]");
            TensorGuard.NotAfter(t, s);
        }
        TensorGuard.Labels(labels, b, NumClasses, Device);
    }

    /// <summary>Releases the model's parameter tensors.</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing) { }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
