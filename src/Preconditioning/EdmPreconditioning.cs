using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Preconditioning;

/// <summary>
/// EDM preconditioning (Karras et al. 2022, Table 1), as used inside CTM's g (Kim et al. 2024, official
/// <c>get_edm_scalings</c>): g_θ(x,t,s) = c_skip(t)·x + c_out(t)·F_θ(c_in(t)·x, c_noise(t), c_noise(s)).
/// </summary>
/// <remarks>The scalings depend on t only, never on s. The <see cref="double"/> overloads need no libtorch.</remarks>
public static class EdmPreconditioning
{
    /// <summary>c_skip(σ) = σ_d² / (σ² + σ_d²).</summary>
    /// <param name="sigma">Noise level σ ≥ 0.</param>
    /// <param name="sigmaData">σ_d, the data standard deviation (0.5).</param>
    public static double CSkip(double sigma, double sigmaData) => sigmaData * sigmaData / (sigma * sigma + sigmaData * sigmaData);

    /// <summary>c_out(σ) = σ·σ_d / √(σ² + σ_d²).</summary>
    /// <param name="sigma">Noise level σ ≥ 0.</param>
    /// <param name="sigmaData">σ_d.</param>
    public static double COut(double sigma, double sigmaData) => sigma * sigmaData / Math.Sqrt(sigma * sigma + sigmaData * sigmaData);

    /// <summary>c_in(σ) = 1 / √(σ² + σ_d²).</summary>
    /// <param name="sigma">Noise level σ ≥ 0.</param>
    /// <param name="sigmaData">σ_d.</param>
    public static double CIn(double sigma, double sigmaData) => 1.0 / Math.Sqrt(sigma * sigma + sigmaData * sigmaData);

    /// <summary>c_noise(σ) = ln(σ)/4, the value the network receives for both t and s (CIFAR-10 code).</summary>
    /// <param name="sigma">Noise level σ &gt; 0.</param>
    public static double CNoise(double sigma) => Math.Log(sigma) / 4.0;

    /// <summary>EDM loss weight λ(σ) = (σ² + σ_d²)/(σ·σ_d)² = 1/c_out(σ)² (<c>karras_weight</c>).</summary>
    /// <param name="sigma">Noise level σ &gt; 0.</param>
    /// <param name="sigmaData">σ_d.</param>
    public static double LossWeight(double sigma, double sigmaData) => (sigma * sigma + sigmaData * sigmaData) / (sigma * sigma * sigmaData * sigmaData);

    /// <summary>Tensor c_skip(σ), element-wise; the result has <paramref name="sigma"/>'s shape.</summary>
    /// <param name="sigma">Noise levels (borrowed).</param>
    /// <param name="sigmaData">σ_d.</param>
    public static Tensor CSkip(Tensor sigma, double sigmaData)
    {
        using var scope = NewDisposeScope();
        double sd2 = sigmaData * sigmaData;
        return (sd2 / (sigma.square() + sd2)).MoveToOuterDisposeScope();
    }

    /// <summary>Tensor c_out(σ), element-wise.</summary>
    /// <param name="sigma">Noise levels (borrowed).</param>
    /// <param name="sigmaData">σ_d.</param>
    public static Tensor COut(Tensor sigma, double sigmaData)
    {
        using var scope = NewDisposeScope();
        return (sigma * sigmaData * (sigma.square() + sigmaData * sigmaData).rsqrt()).MoveToOuterDisposeScope();
    }

    /// <summary>Tensor c_in(σ), element-wise.</summary>
    /// <param name="sigma">Noise levels (borrowed).</param>
    /// <param name="sigmaData">σ_d.</param>
    public static Tensor CIn(Tensor sigma, double sigmaData)
    {
        using var scope = NewDisposeScope();
        return (sigma.square() + sigmaData * sigmaData).rsqrt().MoveToOuterDisposeScope();
    }

    /// <summary>Tensor c_noise(σ) = ln(σ)/4, element-wise.</summary>
    /// <param name="sigma">Noise levels (borrowed).</param>
    public static Tensor CNoise(Tensor sigma)
    {
        using var scope = NewDisposeScope();
        return (sigma.log() / 4.0).MoveToOuterDisposeScope();
    }

    /// <summary>Tensor EDM loss weight λ(σ) = (σ² + σ_d²)/(σ·σ_d)², element-wise.</summary>
    /// <param name="sigma">Noise levels (borrowed).</param>
    /// <param name="sigmaData">σ_d.</param>
    public static Tensor LossWeight(Tensor sigma, double sigmaData)
    {
        using var scope = NewDisposeScope();
        double sd2 = sigmaData * sigmaData;
        return ((sigma.square() + sd2) / (sigma.square() * sd2)).MoveToOuterDisposeScope();
    }
}
