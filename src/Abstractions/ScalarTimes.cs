using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>
/// The <see cref="double"/>-time overloads behind <see cref="ITrajectoryModel"/> and <see cref="IDenoiser"/>.
/// </summary>
/// <remarks>
/// Why they exist as members: TorchSharp converts <see cref="double"/> to <see cref="Tensor"/> implicitly, so without an
/// exact <c>Jump(Tensor, double, double)</c> member a call such as <c>model.Jump(x, 80.0, 0.002)</c> would bind to the
/// tensor overload and leave two scalar tensors outside every dispose scope on each call. These helpers make the
/// scalars inside their own scope and move exactly the one result out.
/// </remarks>
internal static class ScalarTimes
{
    /// <summary>G(x, t, s) with one t and one s for the whole batch.</summary>
    /// <param name="model">The trajectory model.</param>
    /// <param name="x">x_t (borrowed).</param>
    /// <param name="t">Start time.</param>
    /// <param name="s">End time, σ_min ≤ s ≤ t.</param>
    /// <param name="labels">Class ids or null.</param>
    public static Tensor Jump(ITrajectoryModel model, Tensor x, double t, double s, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        return model.Jump(x, Scalar(x, t), Scalar(x, s), labels).MoveToOuterDisposeScope();
    }

    /// <summary>g(x, t, s) with one t and one s for the whole batch.</summary>
    /// <param name="model">The trajectory model.</param>
    /// <param name="x">x_t (borrowed).</param>
    /// <param name="t">Start time.</param>
    /// <param name="s">End time, σ_min ≤ s ≤ t.</param>
    /// <param name="labels">Class ids or null.</param>
    public static Tensor Predict(ITrajectoryModel model, Tensor x, double t, double s, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        return model.Predict(x, Scalar(x, t), Scalar(x, s), labels).MoveToOuterDisposeScope();
    }

    /// <summary>D(x, σ) with one σ for the whole batch.</summary>
    /// <param name="denoiser">The denoiser.</param>
    /// <param name="x">x_σ (borrowed).</param>
    /// <param name="sigma">Noise level.</param>
    /// <param name="labels">Class ids or null.</param>
    public static Tensor Denoise(IDenoiser denoiser, Tensor x, double sigma, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        return denoiser.Denoise(x, Scalar(x, sigma), labels).MoveToOuterDisposeScope();
    }

    private static Tensor Scalar(Tensor x, double value)
    {
        if (x is null) throw new System.ArgumentNullException(nameof(x));
        if (x.IsInvalid) throw new System.ArgumentException("x has been disposed.", nameof(x));
        return tensor(value, dtype: x.dtype, device: x.device);
    }
}
