using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Analytic;

/// <summary>
/// Data x_0 ~ N(μ, σ_0²I) in D dimensions, with everything in closed form.
/// </summary>
/// <remarks>
/// x_t ~ N(μ, (σ_0² + t²)I); D(x, t) = μ + σ_0²/(σ_0² + t²)·(x − μ); the PF-ODE keeps (x − μ)/√(σ_0² + t²) constant, so
/// G*(x, t, s) = μ + √((σ_0² + s²)/(σ_0² + t²))·(x − μ), and g* = x − t(s + t)/((σ_0² + t²)(1 + r))·(x − μ) with r that
/// ratio (the cancellation-free form of (t·G* − s·x)/(t − s), equal to D at s = t).
/// </remarks>
public sealed class GaussianModel : AnalyticModel
{
    private readonly Tensor _mu; // float64 [1, D]

    /// <summary>Creates N(μ, σ_0²I).</summary>
    /// <param name="mean">μ, length D.</param>
    /// <param name="std">σ_0 &gt; 0.</param>
    /// <param name="options">Schedule constants; defaults to the paper's.</param>
    /// <param name="dtype">Dtype of inputs and outputs (float32 by default).</param>
    /// <param name="device">Device; CPU by default.</param>
    public GaussianModel(double[] mean, double std, CtmOptions? options = null, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(mean?.Length ?? throw new ArgumentNullException(nameof(mean)), 0, options, dtype, device)
    {
        if (!(std > 0) || !double.IsFinite(std)) throw new ArgumentOutOfRangeException(nameof(std), std, "σ_0 must be finite and > 0.");
        if (mean.Any(m => !double.IsFinite(m))) throw new ArgumentException("mean must be finite.", nameof(mean));
        Mean = (double[])mean.Clone();
        Std = std;
        _mu = Keep(tensor(Mean, dtype: ScalarType.Float64, device: Device).reshape(1, Dimension));
    }

    /// <summary>μ.</summary>
    public double[] Mean { get; }

    /// <summary>σ_0.</summary>
    public double Std { get; }

    /// <inheritdoc />
    public override Tensor SampleData(int n, Generator generator, Tensor? labels = null)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be at least 1.");
        if (generator is null) throw new ArgumentNullException(nameof(generator));
        if (labels is not null) throw new ArgumentException("This model is unconditional: pass labels = null.", nameof(labels));
        using var scope = NewDisposeScope();
        var z = Sampling.Noise.Normal(new long[] { n, Dimension }, ScalarType.Float64, Device, generator);
        return (_mu + Std * z).to_type(DType).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor LogDensity(Tensor x, double sigma = 0.0, Tensor? labels = null)
    {
        CheckPoints(x, nameof(x));
        if (!(sigma >= 0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "σ must be ≥ 0.");
        using var scope = NewDisposeScope();
        double v = Std * Std + sigma * sigma;
        var d2 = (x.to_type(ScalarType.Float64) - _mu).square().sum(1);
        return (-0.5 * Dimension * Math.Log(2 * Math.PI * v) - d2 / (2 * v)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override Tensor DenoiseCore(Tensor x, Tensor sigma, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        double v0 = Std * Std;
        return (_mu + v0 / (v0 + sigma.square()) * (x - _mu)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override Tensor PredictCore(Tensor x, Tensor t, Tensor s, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        double v0 = Std * Std;
        var vt = v0 + t.square();
        var r = ((v0 + s.square()) / vt).sqrt();
        return (x - t * (s + t) / (vt * (1 + r)) * (x - _mu)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _mu.Dispose();
    }
}
