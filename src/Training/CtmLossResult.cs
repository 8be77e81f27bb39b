using System;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>A loss to back-propagate plus its breakdown. Owns <see cref="Total"/>; dispose it.</summary>
public sealed class CtmLossResult : IDisposable
{
    /// <summary>Creates a result (takes ownership of <paramref name="total"/>).</summary>
    /// <param name="total">The scalar loss with its graph.</param>
    /// <param name="breakdown">Its parts.</param>
    public CtmLossResult(Tensor total, CtmLossBreakdown breakdown)
    {
        Total = total ?? throw new ArgumentNullException(nameof(total));
        Breakdown = breakdown ?? throw new ArgumentNullException(nameof(breakdown));
    }

    /// <summary>The scalar to call <c>backward()</c> on.</summary>
    public Tensor Total { get; }

    /// <summary>Its parts as numbers.</summary>
    public CtmLossBreakdown Breakdown { get; }

    /// <inheritdoc />
    public void Dispose() => Total.Dispose();
}
