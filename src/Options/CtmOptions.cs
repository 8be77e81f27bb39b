using System;
using Ctm.Core.Schedules;
using Microsoft.Extensions.Options;

namespace Ctm.Core;

/// <summary>
/// The schedule constants shared by a CTM model, its teacher and its samplers. Defaults are the paper's and the
/// official code's (<c>model_and_diffusion_defaults</c>, <c>ctm_data_defaults</c>).
/// </summary>
public sealed class CtmOptions
{
    /// <summary>σ_min: the smallest time (noise level) the model is defined at; "time 0" of every jump. Default 0.002.</summary>
    public double SigmaMin { get; set; } = KarrasSchedule.DefaultSigmaMin;

    /// <summary>σ_max = T: the largest time; sampling starts from x_T = σ_max·z. Default 80.</summary>
    public double SigmaMax { get; set; } = KarrasSchedule.DefaultSigmaMax;

    /// <summary>σ_data: the data standard deviation used by the EDM scalings. Default 0.5 (data scaled to [−1, 1]).</summary>
    public double SigmaData { get; set; } = 0.5;

    /// <summary>ρ: the Karras schedule exponent. Default 7.</summary>
    public double Rho { get; set; } = KarrasSchedule.DefaultRho;

    /// <summary>
    /// Whether public model calls check their inputs (finite values, time ranges, shapes, device). Default true; the
    /// checks synchronise with the device, so a tuned GPU host may turn them off once its pipeline is proven.
    /// </summary>
    public bool ValidateInputs { get; set; } = true;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option and its valid range.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        var result = new CtmOptionsValidator().Validate(null, this);
        if (result.Failed) throw new ArgumentException(result.FailureMessage, "options");
    }

    /// <summary>A shallow copy.</summary>
    public CtmOptions Clone() => (CtmOptions)MemberwiseClone();
}

/// <summary>Validates <see cref="CtmOptions"/> (<c>AddCtm</c> registers it; <see cref="CtmOptions.Validate"/> runs it without DI).</summary>
internal sealed class CtmOptionsValidator : IValidateOptions<CtmOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CtmOptions options)
    {
        if (options is null) return ValidateOptionsResult.Fail("CtmOptions must not be null.");
        if (!(options.SigmaMin > 0) || !double.IsFinite(options.SigmaMin))
            return ValidateOptionsResult.Fail($"CtmOptions.SigmaMin = {options.SigmaMin}: σ_min must be finite and > 0 (paper: 0.002).");
        if (!(options.SigmaMax > options.SigmaMin) || !double.IsFinite(options.SigmaMax))
            return ValidateOptionsResult.Fail($"CtmOptions.SigmaMax = {options.SigmaMax}: σ_max must be finite and > SigmaMin = {options.SigmaMin} (paper: 80).");
        if (!(options.SigmaData > 0) || !double.IsFinite(options.SigmaData))
            return ValidateOptionsResult.Fail($"CtmOptions.SigmaData = {options.SigmaData}: σ_data must be finite and > 0 (paper: 0.5).");
        if (!(options.Rho > 0) || !double.IsFinite(options.Rho))
            return ValidateOptionsResult.Fail($"CtmOptions.Rho = {options.Rho}: ρ must be finite and > 0 (paper: 7).");
        return ValidateOptionsResult.Success;
    }
}
