using System;
using Microsoft.Extensions.Options;

namespace Ctm.Core.Training;

/// <summary>How many teacher steps k separate t and u in an iteration (official <c>heun_step_strategy</c>).</summary>
public enum HeunStepStrategy
{
    /// <summary>P(k) ∝ k on {1..K} (official default, <c>'weighted'</c>).</summary>
    Weighted,
    /// <summary>k ~ U{1..K}.</summary>
    Uniform,
    /// <summary>k = K every iteration (official <c>num_heun_step_random = False</c>). With K = N − 1 every draw is the
    /// whole jump t = σ_max → s = σ_min, i.e. a one-step sample.</summary>
    Fixed,
}

/// <summary>Where the CTM target's trajectory segment t → u comes from.</summary>
public enum TeacherMode
{
    /// <summary>k Heun steps of the teacher denoiser (official default).</summary>
    Teacher,
    /// <summary>Teacher-free: one call of the target network's own jump G_θ⁻(x_t, t, u) (official <c>self_learn</c>).</summary>
    SelfTeacher,
    /// <summary>Teacher-free: k single-index jumps of the target network (official <c>self_learn_iterative</c>).</summary>
    SelfTeacherIterative,
}

/// <summary>
/// CTM distillation settings. Defaults are the official CIFAR-10 code's (Kim et al. 2024; <c>cm/script_util.py</c>),
/// with the GAN term off until <see cref="GanStartStep"/>.
/// </summary>
public sealed class CtmTrainingOptions
{
    /// <summary>N: points of the Karras training grid (CIFAR-10: 18).</summary>
    public int GridPoints { get; set; } = 18;

    /// <summary>K: largest number of teacher steps between t and u (CIFAR-10: 17 = N − 1).</summary>
    public int MaxTeacherSteps { get; set; } = 17;

    /// <summary>Distribution of k.</summary>
    public HeunStepStrategy StepStrategy { get; set; } = HeunStepStrategy.Weighted;

    /// <summary>Teacher or teacher-free target.</summary>
    public TeacherMode TeacherMode { get; set; } = TeacherMode.Teacher;

    /// <summary>
    /// M &gt; 0: solve M teacher trajectories along the whole grid once, at the first iteration, and read each draw's x_t
    /// and the teacher's x_u from them (official: 0, a fresh x_t = x_0 + t·z and k teacher Heun steps every iteration).
    /// The target is the same teacher solution, the k Heun steps (two thirds of a small network's iteration) are gone,
    /// and x_t follows the teacher's probability-flow marginal instead of the forward diffusion's. Costs N·M samples of
    /// memory, so it is for small data (2-D, tabular); needs <see cref="TeacherMode.Teacher"/>. DSM and the GAN's real
    /// samples still use the data. With a class-conditional teacher each trajectory carries a label drawn uniformly over
    /// the classes, and the CTM term uses those labels instead of the batch's (DSM keeps the data's labels and class
    /// frequencies). The bank is not part of a checkpoint: it is rebuilt from <see cref="Seed"/> at the first iteration
    /// after a resume, so resume with the same options. See docs/training.md.
    /// </summary>
    public int TrajectoryBankSize { get; set; }

    /// <summary>Generator learning rate (RAdam). Official: 4e-4.</summary>
    public double LearningRate { get; set; } = 4e-4;

    /// <summary>μ of the target network θ⁻ ← μθ⁻ + (1 − μ)θ. Official: 0.999.</summary>
    public double TargetEmaRate { get; set; } = 0.999;

    /// <summary>μ of the separate evaluation EMA. Official: 0.999 (and 0.9999).</summary>
    public double EvalEmaRate { get; set; } = 0.999;

    /// <summary>Weight of the DSM term (<c>denoising_weight</c>), multiplied by λ_DSM. 0 switches DSM off.</summary>
    public double DsmWeight { get; set; } = 1.0;

    /// <summary>Whether λ_DSM and λ_GAN come from gradient-norm ratios at the last layer (official: true).</summary>
    public bool AdaptiveWeights { get; set; } = true;

    /// <summary>EDM P_mean for the log-normal half of the DSM σ draws. −1.2.</summary>
    public double DsmPMean { get; set; } = -1.2;

    /// <summary>EDM P_std. 1.2.</summary>
    public double DsmPStd { get; set; } = 1.2;

    /// <summary>Upper fraction r of the Karras-uniform half of the DSM σ draws (<c>diffusion_mult</c> = 0.7 → σ ∈ [0.318, 80]).</summary>
    public double DsmUniformFraction { get; set; } = 0.7;

    /// <summary>Whether the adversarial term is used at all.</summary>
    public bool GanEnabled { get; set; }

    /// <summary>Iteration from which the GAN term and discriminator updates start (the paper warms up without GAN).</summary>
    public long GanStartStep { get; set; }

    /// <summary>Weight of the GAN term (<c>discriminator_weight</c>), multiplied by λ_GAN.</summary>
    public double GanWeight { get; set; } = 1.0;

    /// <summary>
    /// Whether the GAN's fake samples come from their own (k′, t′, s′) draw instead of the CTM term's (official
    /// <c>gan_specific_time</c>; default false, the ImageNet-64 GAN command sets it). The fake is then
    /// G_θ⁻(G_θ(x_t′, t′, s′), s′, σ_min) with k′ drawn by <see cref="GanStepStrategy"/> from {1..<see cref="GanMaxTeacherSteps"/>},
    /// on generator and discriminator steps alike; it costs one more student forward and backward per generator step.
    /// </summary>
    public bool GanSpecificTime { get; set; }

    /// <summary>K′, the largest k′ of the GAN's own time draw (official <c>gan_num_heun_step</c>: 17 for CIFAR-10, 39 for
    /// ImageNet-64); must lie in [1, N − 1]. Used only with <see cref="GanSpecificTime"/>.</summary>
    public int GanMaxTeacherSteps { get; set; } = 17;

    /// <summary>Distribution of k′ (official <c>gan_heun_step_strategy = 'uniform'</c>). <see cref="HeunStepStrategy.Fixed"/>
    /// with K′ = N − 1 makes every fake a one-step sample from σ_max.</summary>
    public HeunStepStrategy GanStepStrategy { get; set; } = HeunStepStrategy.Uniform;

    /// <summary>Discriminator learning rate (RAdam, betas 0.5/0.9). Official: 2e-3.</summary>
    public double DiscriminatorLearningRate { get; set; } = 2e-3;

    /// <summary>How the generator's learning rate decays (official: <see cref="LearningRateDecay.None"/>, constant).
    /// A decay to a small fraction over the last part of a short run lowers the gradient noise the EMA alone leaves in
    /// the jumps; see docs/training.md.</summary>
    public LearningRateDecay Decay { get; set; } = LearningRateDecay.None;

    /// <summary>Iteration at which the decay starts (the rate is <see cref="LearningRate"/> before it).</summary>
    public long DecayStartStep { get; set; }

    /// <summary>Iteration at which the decay ends; from there on the rate stays <see cref="DecayFinalFactor"/> × <see cref="LearningRate"/>.</summary>
    public long DecayEndStep { get; set; }

    /// <summary>The learning rate at <see cref="DecayEndStep"/> as a fraction of <see cref="LearningRate"/>, in (0, 1].</summary>
    public double DecayFinalFactor { get; set; } = 0.01;

    /// <summary>Seed of the trainer's generator (all training noise, time draws and data draws through it).</summary>
    public ulong Seed { get; set; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        var r = new CtmTrainingOptionsValidator().Validate(null, this);
        if (r.Failed) throw new ArgumentException(r.FailureMessage, "options");
    }

    /// <summary>A shallow copy.</summary>
    public CtmTrainingOptions Clone() => (CtmTrainingOptions)MemberwiseClone();
}

/// <summary>Validates <see cref="CtmTrainingOptions"/>.</summary>
internal sealed class CtmTrainingOptionsValidator : IValidateOptions<CtmTrainingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CtmTrainingOptions o)
    {
        if (o is null) return ValidateOptionsResult.Fail("CtmTrainingOptions must not be null.");
        if (o.GridPoints < 2) return Fail($"GridPoints = {o.GridPoints}: the grid needs at least 2 points (official 18).");
        if (o.MaxTeacherSteps < 1 || o.MaxTeacherSteps > o.GridPoints - 1)
            return Fail($"MaxTeacherSteps = {o.MaxTeacherSteps}: must lie in [1, GridPoints − 1 = {o.GridPoints - 1}].");
        if (o.TrajectoryBankSize < 0) return Fail($"TrajectoryBankSize = {o.TrajectoryBankSize}: must be ≥ 0 (0 = off, the official per-iteration teacher segment).");
        if (o.TrajectoryBankSize > 0 && o.TeacherMode != TeacherMode.Teacher)
            return Fail($"TrajectoryBankSize = {o.TrajectoryBankSize} needs TeacherMode.Teacher (the bank holds a fixed teacher's trajectories; a teacher-free target changes every iteration).");
        if (!(o.LearningRate > 0 && o.LearningRate <= 1)) return Fail($"LearningRate = {o.LearningRate}: must lie in (0, 1] (official 4e-4).");
        if (!(o.TargetEmaRate >= 0 && o.TargetEmaRate < 1)) return Fail($"TargetEmaRate = {o.TargetEmaRate}: must lie in [0, 1) (official 0.999).");
        if (!(o.EvalEmaRate >= 0 && o.EvalEmaRate < 1)) return Fail($"EvalEmaRate = {o.EvalEmaRate}: must lie in [0, 1).");
        if (!(o.DsmWeight >= 0) || !double.IsFinite(o.DsmWeight)) return Fail($"DsmWeight = {o.DsmWeight}: must be finite and ≥ 0.");
        if (!double.IsFinite(o.DsmPMean)) return Fail($"DsmPMean = {o.DsmPMean}: must be finite (official −1.2).");
        if (!(o.DsmPStd > 0) || !double.IsFinite(o.DsmPStd)) return Fail($"DsmPStd = {o.DsmPStd}: must be finite and > 0 (official 1.2).");
        if (!(o.DsmUniformFraction > 0 && o.DsmUniformFraction <= 1)) return Fail($"DsmUniformFraction = {o.DsmUniformFraction}: must lie in (0, 1].");
        if (!(o.GanWeight >= 0) || !double.IsFinite(o.GanWeight)) return Fail($"GanWeight = {o.GanWeight}: must be finite and ≥ 0.");
        if (o.GanSpecificTime && (o.GanMaxTeacherSteps < 1 || o.GanMaxTeacherSteps > o.GridPoints - 1))
            return Fail($"GanMaxTeacherSteps = {o.GanMaxTeacherSteps}: with GanSpecificTime it must lie in [1, GridPoints − 1 = {o.GridPoints - 1}] (official 17 for N = 18).");
        if (!Enum.IsDefined(o.StepStrategy)) return Fail($"StepStrategy = {(int)o.StepStrategy}: not a HeunStepStrategy value.");
        if (!Enum.IsDefined(o.GanStepStrategy)) return Fail($"GanStepStrategy = {(int)o.GanStepStrategy}: not a HeunStepStrategy value.");
        if (LearningRateSchedule.Problem(o.Decay, o.DecayStartStep, o.DecayEndStep, o.DecayFinalFactor) is { } decay) return Fail(decay);
        if (o.GanStartStep < 0) return Fail($"GanStartStep = {o.GanStartStep}: must be ≥ 0.");
        if (!(o.DiscriminatorLearningRate > 0 && o.DiscriminatorLearningRate <= 1))
            return Fail($"DiscriminatorLearningRate = {o.DiscriminatorLearningRate}: must lie in (0, 1] (official 2e-3).");
        return ValidateOptionsResult.Success;

        static ValidateOptionsResult Fail(string m) => ValidateOptionsResult.Fail("CtmTrainingOptions." + m);
    }
}
