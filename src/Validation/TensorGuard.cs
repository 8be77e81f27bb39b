using System;
using System.Linq;
using Ctm.Core.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>
/// Input checks that turn bad tensors into <see cref="ArgumentException"/>s naming the argument and the fix, before
/// they reach libtorch (where they would surface as native errors or silent NaNs).
/// </summary>
internal static class TensorGuard
{
    /// <summary>x must be a floating tensor with a batch dimension, finite, and on <paramref name="device"/>.</summary>
    /// <param name="x">The batch to check.</param>
    /// <param name="device">The device the model computes on.</param>
    /// <param name="paramName">Argument name for the exception.</param>
    public static void Batch(Tensor x, Device device, string paramName = "x")
    {
        if (x is null) throw new ArgumentNullException(paramName);
        if (x.IsInvalid) throw new ArgumentException("The tensor has been disposed.", paramName);
        if (x.dim() < 2)
            throw new ArgumentException($"{paramName} must have a batch dimension first: shape [B, …] with rank ≥ 2, got [{Shape(x)}]. " +
                $"For one sample use {paramName}.unsqueeze(0).", paramName);
        if (x.shape[0] == 0) throw new ArgumentException($"{paramName} has an empty batch (shape [{Shape(x)}]).", paramName);
        if (!x.is_floating_point())
            throw new ArgumentException($"{paramName} must be a floating-point tensor, got {x.dtype}; convert with {paramName}.to(ScalarType.Float32).", paramName);
        SameDevice(x, device, paramName);
        Finite(x, paramName);
    }

    /// <summary>The tensor must live on <paramref name="device"/>.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="device">The expected device.</param>
    /// <param name="paramName">Argument name for the exception.</param>
    public static void SameDevice(Tensor x, Device device, string paramName)
    {
        if (x.device_type != device.type || (device.index >= 0 && x.device_index != device.index && x.device_type != DeviceType.CPU))
            throw new ArgumentException($"{paramName} is on {x.device} but the model is on {device}; move it with {paramName}.to(model.Device).", paramName);
    }

    /// <summary>Every element must be finite (no NaN, no ±Inf).</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="paramName">Argument name for the exception.</param>
    public static void Finite(Tensor x, string paramName)
    {
        using var scope = NewDisposeScope();
        if (!x.isfinite().all().item<bool>())
            throw new ArgumentException($"{paramName} contains NaN or infinite values; check the data scaling or the step that produced it.", paramName);
    }

    /// <summary>
    /// Times must be a scalar or [B] tensor, finite, and within [lower·(1−tol), upper·(1+tol)].
    /// </summary>
    /// <param name="t">The times.</param>
    /// <param name="batch">Batch size B.</param>
    /// <param name="lower">Smallest allowed value.</param>
    /// <param name="upper">Largest allowed value.</param>
    /// <param name="paramName">Argument name for the exception.</param>
    /// <param name="what">What the bounds are, for the message (e.g. "[σ_min, σ_max]").</param>
    public static void Times(Tensor t, long batch, double lower, double upper, string paramName, string what)
    {
        if (t is null) throw new ArgumentNullException(paramName);
        if (t.IsInvalid) throw new ArgumentException($"{paramName} has been disposed.", paramName);
        if (!(t.dim() == 0 || (t.dim() == 1 && t.shape[0] == batch)))
            throw new ArgumentException($"{paramName} must be a scalar or have shape [{batch}] (one value per sample), got [{Shape(t)}].", paramName);
        if (!t.is_floating_point())
            throw new ArgumentException($"{paramName} must be a floating-point tensor, got {t.dtype}.", paramName);
        Finite(t, paramName);
        using var scope = NewDisposeScope();
        double min = t.min().to_type(ScalarType.Float64).item<double>(), max = t.max().to_type(ScalarType.Float64).item<double>();
        double tol = KarrasSchedule.Tolerance;
        if (min < lower * (1 - tol) || max > upper * (1 + tol))
            throw new ArgumentOutOfRangeException(paramName, $"{paramName} has values in [{min}, {max}] but must lie in {what} = [{lower}, {upper}].");
    }

    /// <summary>Every s must be ≤ the matching t (a jump goes back in time).</summary>
    /// <param name="t">Start times (scalar or [B]).</param>
    /// <param name="s">End times (scalar or [B]).</param>
    public static void NotAfter(Tensor t, Tensor s)
    {
        using var scope = NewDisposeScope();
        var tt = t.to_type(ScalarType.Float64);
        var ss = s.to(ScalarType.Float64, t.device);
        if ((ss > tt * (1 + KarrasSchedule.Tolerance)).any().item<bool>())
            throw new ArgumentException("s must not exceed t: a CTM jump goes from time t back to an earlier time s ≤ t (swap the arguments?).", "s");
    }

    /// <summary>Class labels: int64 [B] ids in [0, numClasses); null exactly when the model is unconditional.</summary>
    /// <param name="labels">The labels or null.</param>
    /// <param name="batch">Batch size B.</param>
    /// <param name="numClasses">Classes the model knows (0 = unconditional).</param>
    /// <param name="device">The model's device.</param>
    public static void Labels(Tensor? labels, long batch, int numClasses, Device device)
    {
        if (labels is null)
        {
            if (numClasses > 0)
                throw new ArgumentNullException("labels", $"This model is class-conditional ({numClasses} classes): pass labels, an int64 tensor of shape [{batch}].");
            return;
        }
        if (labels.IsInvalid) throw new ArgumentException("labels has been disposed.", "labels");
        if (numClasses == 0)
            throw new ArgumentException("This model is unconditional: pass labels = null.", "labels");
        if (labels.dim() != 1 || labels.shape[0] != batch)
            throw new ArgumentException($"labels must have shape [{batch}] (one class id per sample), got [{Shape(labels)}].", "labels");
        if (labels.dtype != ScalarType.Int64 && labels.dtype != ScalarType.Int32)
            throw new ArgumentException($"labels must be an integer tensor (int64), got {labels.dtype}.", "labels");
        SameDevice(labels, device, "labels");
        using var scope = NewDisposeScope();
        long min = labels.min().to_type(ScalarType.Int64).item<long>(), max = labels.max().to_type(ScalarType.Int64).item<long>();
        if (min < 0 || max >= numClasses)
            throw new ArgumentOutOfRangeException("labels", $"labels has ids in [{min}, {max}] but the model knows classes 0..{numClasses - 1}.");
    }

    /// <summary>The per-sample shape x.shape[1..] must equal <paramref name="sampleShape"/>.</summary>
    /// <param name="x">The batch.</param>
    /// <param name="sampleShape">Expected shape of one sample.</param>
    /// <param name="paramName">Argument name for the exception.</param>
    public static void SampleShape(Tensor x, long[] sampleShape, string paramName)
    {
        if (!x.shape.Skip(1).SequenceEqual(sampleShape))
            throw new ArgumentException($"{paramName} must have shape [B, {string.Join(", ", sampleShape)}], got [{Shape(x)}].", paramName);
    }

    /// <summary>The tensor's dtype must equal <paramref name="dtype"/>.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="dtype">Expected dtype.</param>
    /// <param name="paramName">Argument name for the exception.</param>
    public static void DType(Tensor x, ScalarType dtype, string paramName)
    {
        if (x.dtype != dtype)
            throw new ArgumentException($"{paramName} has dtype {x.dtype} but the model computes in {dtype}; convert with {paramName}.to({dtype}).", paramName);
    }

    internal static string Shape(Tensor t) => string.Join(", ", t.shape);
}
