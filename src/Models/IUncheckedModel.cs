using static TorchSharp.torch;

namespace Ctm.Core.Models;

/// <summary>
/// Check-free entry points for inner loops (training losses, teacher solves) that validated their inputs once at the
/// boundary: the public checks cost ~25 small tensor ops and several device syncs per call, as much as a small
/// network's forward pass.
/// </summary>
internal interface IUncheckedModel
{
    Tensor DenoiseUnchecked(Tensor x, Tensor sigma, Tensor? labels);
}

/// <summary>Check-free G for inner loops (see <see cref="IUncheckedModel"/>).</summary>
internal interface IUncheckedTrajectoryModel : IUncheckedModel
{
    Tensor JumpUnchecked(Tensor x, Tensor t, Tensor s, Tensor? labels);
}

/// <summary>Dispatches to the unchecked paths when a model has them, else to the public (checked) ones.</summary>
internal static class Unchecked
{
    public static Tensor Jump(ITrajectoryModel m, Tensor x, Tensor t, Tensor s, Tensor? labels)
        => m is IUncheckedTrajectoryModel u ? u.JumpUnchecked(x, t, s, labels) : m.Jump(x, t, s, labels);

    public static Tensor Denoise(IDenoiser d, Tensor x, Tensor sigma, Tensor? labels)
        => d is IUncheckedModel u ? u.DenoiseUnchecked(x, sigma, labels) : d.Denoise(x, sigma, labels);
}

/// <summary>An <see cref="IDenoiser"/> view that skips input checks (for solver steps inside validated loops).</summary>
internal sealed class UncheckedDenoiser : IDenoiser
{
    private readonly IDenoiser _inner;
    public UncheckedDenoiser(IDenoiser inner) => _inner = inner;
    public double SigmaMin => _inner.SigmaMin;
    public double SigmaMax => _inner.SigmaMax;
    public double SigmaData => _inner.SigmaData;
    public double Rho => _inner.Rho;
    public TorchSharp.torch.Device Device => _inner.Device;
    public TorchSharp.torch.ScalarType DType => _inner.DType;
    public int NumClasses => _inner.NumClasses;
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels = null) => Unchecked.Denoise(_inner, x, sigma, labels);
}
