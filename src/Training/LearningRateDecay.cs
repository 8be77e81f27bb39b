using System;

namespace Ctm.Core.Training;

/// <summary>How a learning rate falls over training (<see cref="CtmTrainingOptions.Decay"/> for the CTM generator,
/// <see cref="EdmTrainingOptions.Decay"/> for the teacher).</summary>
public enum LearningRateDecay
{
    /// <summary>Constant learning rate (the official CTM runs).</summary>
    None,
    /// <summary>Straight line from the learning rate at <see cref="CtmTrainingOptions.DecayStartStep"/> to
    /// <see cref="CtmTrainingOptions.DecayFinalFactor"/> × it at <see cref="CtmTrainingOptions.DecayEndStep"/>.</summary>
    Linear,
    /// <summary>Half a cosine between the same two points (flat at both ends).</summary>
    Cosine,
}

/// <summary>The learning-rate factor of <see cref="LearningRateDecay"/> as a pure function of the iteration (plain double math).</summary>
internal static class LearningRateSchedule
{
    /// <summary>The factor (≤ 1) that multiplies the base learning rate at iteration <paramref name="step"/>.</summary>
    public static double Factor(LearningRateDecay decay, long step, long start, long end, double finalFactor)
    {
        if (decay == LearningRateDecay.None || step <= start) return 1.0;
        if (step >= end) return finalFactor;
        double p = (double)(step - start) / (end - start);
        double shape = decay == LearningRateDecay.Linear ? 1 - p : 0.5 * (1 + Math.Cos(Math.PI * p));
        return finalFactor + (1 - finalFactor) * shape;
    }

    /// <summary>What is wrong with a decay's settings, as "Option = value: why" for an options validator; null if nothing.</summary>
    public static string? Problem(LearningRateDecay decay, long start, long end, double finalFactor)
    {
        if (!Enum.IsDefined(decay)) return $"Decay = {(int)decay}: not a LearningRateDecay value.";
        if (decay == LearningRateDecay.None) return null;
        if (start < 0) return $"DecayStartStep = {start}: must be ≥ 0.";
        if (end <= start) return $"DecayEndStep = {end}: must be greater than DecayStartStep = {start} (e.g. the run's last iteration).";
        if (!(finalFactor > 0 && finalFactor <= 1)) return $"DecayFinalFactor = {finalFactor}: must lie in (0, 1] (the optimiser needs a positive rate).";
        return null;
    }
}
