using System;
using Microsoft.Extensions.Options;

namespace Ctm.Core.Training;

/// <summary>Settings of EDM teacher training (Karras et al. 2022 defaults where they apply).</summary>
public sealed class EdmTrainingOptions
{
    /// <summary>Learning rate. EDM uses 1e-3 (Adam) for CIFAR-10.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Use RAdam (<see cref="RectifiedAdam"/>) instead of Adam.</summary>
    public bool UseRAdam { get; set; }

    /// <summary>
    /// μ of the weight EMA sampled from. 0.999 suits runs of tens of thousands of iterations; for a short run take
    /// <see cref="Ema.RateForRun"/> of its length.
    /// </summary>
    public double EmaRate { get; set; } = 0.999;

    /// <summary>P_mean of ln σ. −1.2.</summary>
    public double PMean { get; set; } = -1.2;

    /// <summary>P_std of ln σ. 1.2.</summary>
    public double PStd { get; set; } = 1.2;

    /// <summary>How the learning rate decays (EDM: <see cref="LearningRateDecay.None"/>, constant). A decay to a small
    /// fraction over a short run lowers the gradient noise the EMA alone leaves in the denoiser.</summary>
    public LearningRateDecay Decay { get; set; } = LearningRateDecay.None;

    /// <summary>Iteration at which the decay starts (the rate is <see cref="LearningRate"/> before it).</summary>
    public long DecayStartStep { get; set; }

    /// <summary>Iteration at which the decay ends; from there on the rate stays <see cref="DecayFinalFactor"/> × <see cref="LearningRate"/>.</summary>
    public long DecayEndStep { get; set; }

    /// <summary>The learning rate at <see cref="DecayEndStep"/> as a fraction of <see cref="LearningRate"/>, in (0, 1].</summary>
    public double DecayFinalFactor { get; set; } = 0.01;

    /// <summary>Seed of the trainer's generator (σ draws, noise and the batch callback's data draws).</summary>
    public ulong Seed { get; set; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        var r = new EdmTrainingOptionsValidator().Validate(null, this);
        if (r.Failed) throw new ArgumentException(r.FailureMessage, "options");
    }

    /// <summary>A shallow copy.</summary>
    public EdmTrainingOptions Clone() => (EdmTrainingOptions)MemberwiseClone();
}

/// <summary>Validates <see cref="EdmTrainingOptions"/>.</summary>
internal sealed class EdmTrainingOptionsValidator : IValidateOptions<EdmTrainingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EdmTrainingOptions o)
    {
        if (o is null) return ValidateOptionsResult.Fail("EdmTrainingOptions must not be null.");
        if (!(o.LearningRate > 0 && o.LearningRate <= 1)) return Fail($"LearningRate = {o.LearningRate}: must lie in (0, 1] (EDM: 1e-3).");
        if (!(o.EmaRate >= 0 && o.EmaRate < 1)) return Fail($"EmaRate = {o.EmaRate}: must lie in [0, 1).");
        if (!double.IsFinite(o.PMean)) return Fail($"PMean = {o.PMean}: must be finite (EDM: −1.2).");
        if (!(o.PStd > 0) || !double.IsFinite(o.PStd)) return Fail($"PStd = {o.PStd}: must be finite and > 0 (EDM: 1.2).");
        if (LearningRateSchedule.Problem(o.Decay, o.DecayStartStep, o.DecayEndStep, o.DecayFinalFactor) is { } decay) return Fail(decay);
        return ValidateOptionsResult.Success;

        static ValidateOptionsResult Fail(string m) => ValidateOptionsResult.Fail("EdmTrainingOptions." + m);
    }
}
