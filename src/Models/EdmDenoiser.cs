using System;
using Ctm.Core.Preconditioning;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Models;

/// <summary>
/// An EDM denoiser around a user network (the CTM teacher abstraction; Karras et al. 2022, <c>EDMPrecond</c>):
/// D(x, σ) = c_skip(σ)·x + c_out(σ)·F(c_in(σ)·x, c_noise(σ)[, labels]), c_noise(σ) = ln(σ)/4.
/// </summary>
/// <remarks>
/// Same preconditioning as <see cref="CtmTrajectoryModel"/> on its diagonal, so a student whose t-branch copies the
/// teacher's weights starts as the teacher. The network is borrowed: never disposed, moved or mode-switched here.
/// Inputs are borrowed; each call returns one new tensor.
/// </remarks>
public sealed class EdmDenoiser : PreconditionedModel, IDenoiser, ITrainableModel, IUncheckedModel
{

    /// <summary>Wraps an unconditional network F(x_in, c_noise) with the paper's schedule.</summary>
    /// <param name="network">The raw network (borrowed).</param>
    public EdmDenoiser(nn.Module<Tensor, Tensor, Tensor> network)
        : this(network, (CtmOptions?)null) { }

    /// <summary>Wraps an unconditional network F(x_in, c_noise).</summary>
    /// <param name="network">The raw network (borrowed).</param>
    /// <param name="options">Schedule constants; null = the paper's.</param>
    /// <remarks>No default value on <paramref name="options"/>, so a DI container picks the <see cref="IOptions{TOptions}"/> constructor unambiguously.</remarks>
    public EdmDenoiser(nn.Module<Tensor, Tensor, Tensor> network, CtmOptions? options)
        : base(new NetworkAdapter(network ?? throw new ArgumentNullException(nameof(network)), (x, c, _, _) => network.call(x, c)), 0, options) { }

    /// <summary>Wraps a class-conditional network F(x_in, c_noise, labels).</summary>
    /// <param name="network">The raw network (borrowed).</param>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="options">Schedule constants; defaults to the paper's.</param>
    public EdmDenoiser(nn.Module<Tensor, Tensor, Tensor, Tensor> network, int numClasses, CtmOptions? options = null)
        : base(new NetworkAdapter(network ?? throw new ArgumentNullException(nameof(network)), (x, c, _, y) => network.call(x, c, y!)),
            numClasses >= 1 ? numClasses : throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "A class-conditional model needs at least 1 class."), options)
    { }

    /// <summary>Wraps a network reached through an adapter (library networks such as SongUNet).</summary>
    internal EdmDenoiser(NetworkAdapter network, int numClasses, CtmOptions? options) : base(network, numClasses, options) { }

    /// <summary>Wraps an unconditional network with options from dependency injection.</summary>
    /// <param name="network">The raw network (borrowed).</param>
    /// <param name="options">Options accessor.</param>
    public EdmDenoiser(nn.Module<Tensor, Tensor, Tensor> network, IOptions<CtmOptions> options)
        : this(network, FromDi(options)) { }

    /// <inheritdoc />
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels = null)
    {
        if (x is null) throw new ArgumentNullException(nameof(x));
        if (sigma is null) throw new ArgumentNullException(nameof(sigma));
        if (Settings.ValidateInputs)
        {
            TensorGuard.Batch(x, Device, nameof(x));
            TensorGuard.DType(x, DType, nameof(x));
            TensorGuard.Times(sigma, x.shape[0], SigmaMin, SigmaMax, nameof(sigma), "[σ_min, σ_max]");
            TensorGuard.Labels(labels, x.shape[0], NumClasses, Device);
        }
        return DenoiseUnchecked(x, sigma, labels);
    }

    /// <inheritdoc cref="IDenoiser.Denoise(Tensor, double, Tensor?)" />
    public Tensor Denoise(Tensor x, double sigma, Tensor? labels = null)
    {
        if (x is null) throw new ArgumentNullException(nameof(x));
        if (Settings.ValidateInputs)
        {
            TensorGuard.Batch(x, Device, nameof(x));
            TensorGuard.DType(x, DType, nameof(x));
            CheckTime(sigma, nameof(sigma));
            TensorGuard.Labels(labels, x.shape[0], NumClasses, Device);
        }
        return PreconditionScalar(x, sigma, sigma, labels);
    }

    Tensor IUncheckedModel.DenoiseUnchecked(Tensor x, Tensor sigma, Tensor? labels) => DenoiseUnchecked(x, sigma, labels);

    /// <summary>D without input checks (training inner loops).</summary>
    internal Tensor DenoiseUnchecked(Tensor x, Tensor sigma, Tensor? labels)
    {
        if (IsHostScalar(sigma)) return PreconditionScalar(x, sigma.ToDouble(), sigma.ToDouble(), labels);
        using var scope = NewDisposeScope();
        var v = TimeBroadcast.ToVector(sigma, x);
        return PreconditionVector(x, v, v.reshape(BatchShape(x)), v, labels).MoveToOuterDisposeScope();
    }
}
