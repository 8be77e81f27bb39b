using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// A discriminator for vectors: optional random Fourier features, then Linear → LeakyReLU(0.2) blocks → one logit per
/// sample, shape [B].
/// </summary>
/// <remarks>
/// <para>With <c>fourierFeatures</c> = F &gt; 0 the input x ∈ ℝᴰ is first mapped to [x, sin(2π·xB), cos(2π·xB)] with a
/// fixed B ∈ ℝ^{D×F}, B ~ N(0, <c>fourierScale</c>²) (Tancik et al. 2020), a buffer saved with the weights. An MLP on the
/// raw coordinates learns smooth functions first, so on low-dimensional data it cannot tell a sample in a narrow gap
/// between modes from one on a mode: on the 2-D laws of the samples its logits on one-step samples off the support
/// were no lower than on samples on it, while with F = 64, scale 1 (data in about [−1, 1]²) they were 1–2 logits lower
/// after 1,000 steps (docs/results-2d-study.md). Scale is in cycles per unit of x: choose it for the data's frame.</para>
/// </remarks>
public sealed class MlpDiscriminator : nn.Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Linear head;
    private readonly Tensor? fourier_b;

    /// <summary>Creates the discriminator.</summary>
    /// <param name="dimension">Input dimension D.</param>
    /// <param name="hidden">Hidden width.</param>
    /// <param name="layers">Hidden layers (≥ 1).</param>
    /// <param name="name">Module name.</param>
    /// <param name="generator">If given, draws the Fourier matrix and the initial weights (PyTorch's default ranges) so
    /// one seed gives one network; null = TorchSharp's global RNG.</param>
    /// <param name="fourierFeatures">F, random Fourier features of the input (0 = the raw input, the default).</param>
    /// <param name="fourierScale">Standard deviation of the Fourier frequencies, in cycles per unit of the input.</param>
    public MlpDiscriminator(int dimension, int hidden = 128, int layers = 3, string name = "mlp_discriminator", Generator? generator = null,
        int fourierFeatures = 0, double fourierScale = 1.0) : base(name)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be ≥ 1.");
        if (hidden < 1) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "hidden must be ≥ 1.");
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), layers, "layers must be ≥ 1.");
        if (fourierFeatures < 0)
            throw new ArgumentOutOfRangeException(nameof(fourierFeatures), fourierFeatures, "fourierFeatures must be ≥ 0 (0 = the raw input; 64 suits 2-D data).");
        if (!(fourierScale > 0) || !double.IsFinite(fourierScale))
            throw new ArgumentOutOfRangeException(nameof(fourierScale), fourierScale, "fourierScale must be finite and > 0 (cycles per unit of the input; 1 for data in [−1, 1]).");
        if (fourierFeatures > 0)
            fourier_b = (randn(new long[] { dimension, fourierFeatures }, generator: generator) * fourierScale).DetachFromDisposeScope();
        int inputs = dimension + 2 * fourierFeatures;
        body = nn.Sequential();
        for (int i = 0; i < layers; i++)
        {
            body.append(nn.Linear(i == 0 ? inputs : hidden, hidden));
            body.append(nn.LeakyReLU(0.2));
        }
        head = nn.Linear(hidden, 1);
        RegisterComponents();
        if (generator is not null) DefaultInit.Redraw(this, generator);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x.flatten(1);
        if (fourier_b is not null)
        {
            var phase = h.matmul(fourier_b.to_type(h.dtype)) * (2 * Math.PI);
            h = cat(new[] { h, phase.sin(), phase.cos() }, 1);
        }
        return head.call(body.call(h)).squeeze(1).MoveToOuterDisposeScope();
    }
}
