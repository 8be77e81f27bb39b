using System;
using System.Linq;
using Microsoft.Extensions.Options;

namespace Ctm.Core;

/// <summary>
/// What a sampler binds besides its model: the shape of one sample and an optional final clamp. Used by the
/// <c>IOptions</c> constructors of <see cref="Sampling.GammaSampler"/>, <see cref="Sampling.DiffusionSampler"/>,
/// <see cref="Sampling.JumpScheduleSampler"/> and <see cref="Sampling.AncestralEulerSampler"/> (configuration section
/// <c>Ctm:Sampling</c> with <c>AddCtm</c>).
/// </summary>
public sealed class SamplerOptions
{
    /// <summary>Shape of one sample without the batch dimension, e.g. [2] for 2-D points or [1, 28, 28] for MNIST. Required.</summary>
    public long[] SampleShape { get; set; } = Array.Empty<long>();

    /// <summary>Lower bound of the γ-sampler's final clamp (the official image sampler clamps to [−1, 1]); null = no clamp.</summary>
    public double? ClampMin { get; set; }

    /// <summary>Upper bound of the γ-sampler's final clamp; null = no clamp. Set both bounds or neither.</summary>
    public double? ClampMax { get; set; }

    /// <summary>The clamp as a range, or null.</summary>
    internal (double Min, double Max)? Clamp => ClampMin is double lo && ClampMax is double hi ? (lo, hi) : null;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate()
    {
        var r = new SamplerOptionsValidator().Validate(null, this);
        if (r.Failed) throw new ArgumentException(r.FailureMessage, "options");
    }

    /// <summary>The validated options behind an <see cref="IOptions{TOptions}"/> (the samplers' DI constructors).</summary>
    internal static SamplerOptions Checked(IOptions<SamplerOptions> options)
    {
        var o = (options ?? throw new ArgumentNullException(nameof(options))).Value;
        o.Validate();
        return o;
    }
}

/// <summary>Validates <see cref="SamplerOptions"/>.</summary>
internal sealed class SamplerOptionsValidator : IValidateOptions<SamplerOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SamplerOptions options)
    {
        if (options is null) return ValidateOptionsResult.Fail("SamplerOptions must not be null.");
        if (options.SampleShape is null || options.SampleShape.Length == 0 || options.SampleShape.Any(d => d < 1))
            return ValidateOptionsResult.Fail($"SamplerOptions.SampleShape = [{string.Join(", ", options.SampleShape ?? Array.Empty<long>())}]: " +
                "list the positive sizes of one sample, e.g. [2] or [1, 28, 28] (configuration: SampleShape:0 = 2).");
        if (options.ClampMin.HasValue != options.ClampMax.HasValue)
            return ValidateOptionsResult.Fail("SamplerOptions.ClampMin and ClampMax: set both or neither.");
        if (options.ClampMin is double lo && options.ClampMax is double hi && !(lo < hi))
            return ValidateOptionsResult.Fail($"SamplerOptions.ClampMin = {lo}, ClampMax = {hi}: need ClampMin < ClampMax.");
        return ValidateOptionsResult.Success;
    }
}
