using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Ctm.Core;
using Ctm.Core.Diagnostics;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Schedules;
using Ctm.Core.Solvers;
using Ctm.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Samples;

/// <summary>Settings of the 2-D teacher → CTM pipeline.</summary>
public sealed record ToyConfig
{
    // EDM's teacher defaults (declared before Quick: static initializers run in textual order).
    private static readonly EdmTrainingOptions Edm = new();
    private static readonly CtmTrainingOptions Ctm = new();

    /// <summary>The smoke-run budgets of the demo's and the bench's <c>--quick</c>: 600 teacher and 300 CTM iterations, a
    /// bank of 8,192 trajectories, 4,000 samples per row for the k-NN scores and plots, 8,000 for SW2 and off-support.</summary>
    public static ToyConfig Quick { get; } = new() { TeacherSteps = 600, CtmSteps = 300, TrajectoryBank = 8192, EvalSamples = 4000, SwdSamples = 8000 };

    // 10,000: at 3,000 the teacher's Heun 35 left 13 % of the ring's samples off the support (blurred modes); at 10,000
    // its precision is 0.99 and 3 % are off (the data's own floor is 1 %). Single-threaded: ~2.5 min of the demo's 10.
    public int TeacherSteps { get; init; } = 10_000;
    // 16,000 at batch 256 with K = 12, x_t and x_u drawn from a bank of teacher trajectories (TrajectoryBank): about the
    // time 9,000 iterations with a teacher segment per iteration took. More, noisier steps sharpen the jumps (ring NFE 1
    // off-support 6.0 % → 5.4 % → 4.7 % at 3,500 / 7,000 / 10,000 with K = 16; the 25-Gaussian grid's one-step
    // off-support went from 6.8–8.1 % at 9,000 to 5.4–5.6 % at 16,000, inside its bound; 15,000 with a 32,768 bank left
    // grid seed 1 at its bound). 16,000 at batch 128 (CtmBatch) and lr 3e-3 also sharpened them but shrank the ring's
    // blobs at NFE 2 and 4 (seed 0: NFE 2 SW2 1.55× the teacher's, NFE 4 mean log p 1.22 against the data's 1.07):
    // docs/results-2d-study.md, fifth and sixth rounds.
    public int CtmSteps { get; init; } = 16_000;
    /// <summary>Batch of the teacher's training (and of the CTM's unless <see cref="CtmBatch"/> is set).</summary>
    public int Batch { get; init; } = 256;
    /// <summary>Batch of the CTM distillation; 0 = <see cref="Batch"/>.</summary>
    public int CtmBatch { get; init; }
    /// <summary>The CTM's batch: <see cref="CtmBatch"/>, or <see cref="Batch"/> when that is 0.</summary>
    public int CtmBatchSize => CtmBatch > 0 ? CtmBatch : Batch;
    public int Hidden { get; init; } = 128;
    // 6 residual blocks: the NFE-1 map must cut the plane into sharp basins (one per mode); with 3 blocks even a direct
    // regression onto the teacher's endpoints draws straight bridges between modes (10 % off-support vs 4.7 % with 6).
    public int Blocks { get; init; } = 6;
    // EDM's 1e-3, constant, with P_mean −1.2. Measured and not adopted (docs/results-2d-study.md, ninth round): 2e-3 with
    // a cosine decay and P_mean −1.6 halve the teacher's off-support at no cost (ring 3.0 → 1.8 %, spirals 7.6 → 3.4 %)
    // and sharpen every CTM row, but CTM NFE 1's SW2 then lands at 1.02–1.07× the sharper teacher's on all eight runs
    // of the four untuned laws (202 of 216 checks over 18 runs against 208); --teacher-lr 2e-3 --teacher-lr-decay cosine
    // --teacher-p-mean -1.6 selects it.
    public double TeacherLearningRate { get; init; } = 1e-3;
    /// <summary>Learning-rate decay of the teacher (linear or cosine to 1 % over its run); none = constant, as in EDM.</summary>
    public LearningRateDecay TeacherDecay { get; init; } = LearningRateDecay.None;
    /// <summary>P_mean of the teacher's log-normal σ draw (EDM −1.2, <see cref="EdmTrainingOptions.PMean"/>'s default).</summary>
    public double TeacherPMean { get; init; } = Edm.PMean;
    /// <summary>P_std of the teacher's log-normal σ draw (EDM 1.2, <see cref="EdmTrainingOptions.PStd"/>'s default).</summary>
    public double TeacherPStd { get; init; } = Edm.PStd;
    // 2e-3 (official 4e-4 is for 100K+ iterations of a U-Net): in a few thousand iterations the sharp basins only form
    // at 2e-3–4e-3. 4e-3 is a little sharper on some seeds but sits at the edge of stability (8e-3 diverges at once; with
    // 4e-3 the ring's seed 1 blew up after the GAN started), 2e-3 trained every seed tried smoothly.
    public double CtmLearningRate { get; init; } = 2e-3;
    // On (the full objective, as the issue asks for); on 2-D data it contributes nothing measurable at equal cost (seed 0:
    // no GAN with 7,000 iterations matches this run, no GAN with 9,000 is better but over budget; docs/results-2d.md).
    public bool Gan { get; init; } = true;
    public double GanStartFraction { get; init; } = 0.3;
    public double DsmWeight { get; init; } = 1.0;
    /// <summary>P_mean of the DSM term's log-normal σ draw (official −1.2, <see cref="CtmTrainingOptions.DsmPMean"/>'s default).</summary>
    public double DsmPMean { get; init; } = Ctm.DsmPMean;
    /// <summary>P_std of the DSM term's log-normal σ draw (official 1.2, <see cref="CtmTrainingOptions.DsmPStd"/>'s default).</summary>
    public double DsmPStd { get; init; } = Ctm.DsmPStd;
    public TeacherMode TeacherMode { get; init; } = TeacherMode.Teacher;
    /// <summary>Samples per row for the k-NN scores (precision, recall, density, coverage: O(N²)) and the plots.</summary>
    public int EvalSamples { get; init; } = 10_000;
    /// <summary>Samples per row for SW2, off-support, mean log p and the mode count (the first <see cref="EvalSamples"/> of
    /// them are the k-NN and plot samples).</summary>
    // 50,000: SW2 at 10,000 samples is too noisy to rank two samplers that are both near the data: over six noise draws of
    // one ring model, CTM NFE 2 / teacher Heun 35 read 0.78–1.07 (sd 0.11) at 10,000 and 0.79–0.95 (sd 0.06) at 50,000; two fresh
    // ring data sets of 10,000 score 0.035 ± 0.010 against each other (docs/results-2d.md, "How precise SW2 is").
    public int SwdSamples { get; init; } = 50_000;
    /// <summary>Chunks of <see cref="EvalSamples"/> drawn per row: ⌈<see cref="SwdSamples"/> / <see cref="EvalSamples"/>⌉, at least 1.</summary>
    public int EvalChunks => Math.Max(1, (SwdSamples + EvalSamples - 1) / EvalSamples);
    // The library's defaults (0.999) are the official ones, tuned for 100K+ iterations. Over a 2,000-iteration run an
    // EMA of 0.999 still carries ~37% of the early weights; 0.99 keeps the averaging window a similar fraction of the run.
    public double TargetEmaRate { get; init; } = 0.99;
    public double EvalEmaRate { get; init; } = 0.99;
    public ulong Seed { get; init; }
    /// <summary>Multiplier of c_noise before the networks' sinusoidal time embeddings (<see cref="MlpOptions.EmbeddingScale"/>).</summary>
    // 4: with 25 the s-embedding varies so fast that the jumps' paths come out jagged; 4 gives smooth paths and sharper
    // NFE-1 samples.
    public double EmbeddingScale { get; init; } = 4.0;
    /// <summary>
    /// σ_max of the schedule (<see cref="CtmOptions.SigmaMax"/>). EDM's 80 is about the diameter of image data in
    /// [−1, 1]^3072; the rule behind it (σ_max ≈ the largest distance between data points, Song and Ermon 2020) gives
    /// far less for 2-D data scaled to σ_data = 0.5 (ring diameter 2, checkerboard 2.8). 10 keeps a wide margin: the ring's
    /// teacher leaves 2.8 % off the support with σ_max = 10, 3.6 % with 80.
    /// </summary>
    public double SigmaMax { get; init; } = 10.0;
    /// <summary>The schedule constants of the teacher, the CTM and their samplers.</summary>
    public CtmOptions Schedule => new() { SigmaMax = SigmaMax };
    /// <summary>N, the CTM training grid's points.</summary>
    // 17 points, K = 16: the γ-sampler's NFE-2 and NFE-4 grids (3 and 5 Karras points) are then points of the training grid.
    public int GridPoints { get; init; } = 17;
    /// <summary>K, the most teacher Heun steps between t and u.</summary>
    // 12 of N − 1 = 16 (the official ImageNet-64 GAN command uses 20 of 39): P(k) ∝ k puts t near σ_max when K = N − 1,
    // so the jumps that start lower (NFE 2's second jump from σ ≈ 0.48) get little training, and the teacher's 2k
    // evaluations are two thirds of an iteration. At 10,000 iterations, ring seed 0, NFE 1 / NFE 2 off-support:
    // K = 16 4.7 % / 5.6 %, K = 12 4.7 % / 4.9 %, K = 8 5.8 % / 5.0 % (K = 8 costs 0.7× of K = 16, K = 12 0.85×).
    public int MaxTeacherSteps { get; init; } = 12;
    /// <summary>Teacher trajectories solved once for the CTM's x_t and x_u (<see cref="CtmTrainingOptions.TrajectoryBankSize"/>;
    /// 0 = a teacher segment per iteration, the official scheme).</summary>
    // 65,536 × 17 points (8.9 MB), solved before the first iteration (counted in the CTM time): the teacher's k Heun steps were two thirds of an
    // iteration, so an iteration now costs ~0.58 of one without the bank, at unchanged quality per iteration (9,000
    // iterations, seed 0: grid NFE 1 off-support 0.070 with, 0.068 without; ring 0.032 with, 0.033 without). Half the
    // bank with 15,000 iterations saved little time and left the grid's seed 1 at its off-support bound.
    public int TrajectoryBank { get; init; } = 65_536;
    /// <summary>Hidden width of the discriminator.</summary>
    public int DiscriminatorHidden { get; init; } = 128;
    /// <summary>Random Fourier features of the discriminator's input (<see cref="MlpDiscriminator"/>; 0 = raw coordinates).</summary>
    // 64 at scale 1: on raw coordinates the discriminator scored the one-step samples between modes no lower than those on
    // the modes (grid, ring, swiss roll: the GAN term was blind); with Fourier features it scores them 1–2 logits lower,
    // and the grid's one-step off-support fell from 5.4–5.6 % to 5.0 % (docs/results-2d-study.md, twelfth round).
    public int DiscriminatorFourierFeatures { get; init; } = 64;
    /// <summary>Standard deviation of the discriminator's Fourier frequencies, in cycles per unit (the laws' frame is about [−1, 1]²).</summary>
    public double DiscriminatorFourierScale { get; init; } = 1.0;
    /// <summary>Pseudo-Huber constant c of the CTM distance; 0 = plain L2.</summary>
    // 0.01: the pseudo-Huber distance (official for images) instead of L2, whose ~4e-4 loss starves the adaptive weights.
    public double HuberC { get; init; } = 0.01;
    /// <summary>Weight of the GAN term (official <c>discriminator_weight</c> 1), multiplied by the adaptive λ_GAN.</summary>
    // 0.1: at 1 the adaptive λ_GAN hits its clip and the discriminator collapses to constant logits; 0.1 keeps it alive.
    public double GanWeight { get; init; } = 0.1;
    /// <summary>Discriminator learning rate (official 2e-3).</summary>
    public double DiscriminatorLearningRate { get; init; } = 2e-3;
    /// <summary>The GAN's own time draw (<see cref="CtmTrainingOptions.GanSpecificTime"/>).</summary>
    public bool GanSpecificTime { get; init; }
    /// <summary>K′ of the GAN's time draw; 0 = N − 1.</summary>
    public int GanMaxTeacherSteps { get; init; }
    /// <summary>Distribution of k′.</summary>
    public HeunStepStrategy GanStepStrategy { get; init; } = HeunStepStrategy.Uniform;
    /// <summary>Learning-rate decay of the CTM generator: linear to 1 % over the whole run (constant, the official
    /// schedule, left NFE 2 off-support 0.064–0.087 against bounds of 0.050–0.067; with the decay 0.042–0.044 on seed 0).</summary>
    public LearningRateDecay Decay { get; init; } = LearningRateDecay.Linear;
    /// <summary>Where the decay starts, as a fraction of <see cref="CtmSteps"/>; it ends at the last iteration.</summary>
    public double DecayStartFraction { get; init; }
    /// <summary>The final learning rate as a fraction of <see cref="CtmLearningRate"/>.</summary>
    public double DecayFinalFactor { get; init; } = 0.01;

    /// <summary>The settings that decide the teacher, for a cache file name.</summary>
    public string TeacherKey => $"t{TeacherSteps}-smax{SigmaMax}-h{Hidden}-b{Blocks}-e{EmbeddingScale}-lr{TeacherLearningRate}-bs{Batch}-s{Seed}" +
        (TeacherDecay == LearningRateDecay.None ? "" : $"-{TeacherDecay.ToString().ToLowerInvariant()}") +
        (TeacherPMean == Edm.PMean && TeacherPStd == Edm.PStd ? "" : FormattableString.Invariant($"-p{TeacherPMean}_{TeacherPStd}"));
}

/// <summary>A trained teacher (EMA network) with its denoiser.</summary>
public sealed class TrainedTeacher : IDisposable
{
    public required DenoiserMlp Network { get; init; }
    public required DenoiserMlp Raw { get; init; }
    public required CtmOptions Schedule { get; init; }
    public EdmDenoiser Denoiser => new(Network, Schedule);
    public double Seconds { get; init; }
    public void Dispose() { Network.Dispose(); Raw.Dispose(); }
}

/// <summary>A distilled CTM (evaluation EMA) and the networks behind it.</summary>
public sealed class TrainedCtm : IDisposable
{
    public required TrajectoryMlp Student { get; init; }
    public required TrajectoryMlp Target { get; init; }
    public required TrajectoryMlp EvalEma { get; init; }
    public MlpDiscriminator? Discriminator { get; init; }
    public required CtmOptions Schedule { get; init; }
    public CtmTrajectoryModel Model => new(EvalEma, Schedule);
    public double Seconds { get; init; }
    public CtmLossBreakdown? LastLoss { get; init; }
    public void Dispose() { Student.Dispose(); Target.Dispose(); EvalEma.Dispose(); Discriminator?.Dispose(); }
}

/// <summary>Teacher training, CTM distillation and evaluation on 2-D data (used by the demo and the benchmark).</summary>
public static class Toy2DPipeline
{
    public static MlpOptions Net(ToyConfig c) => new() { Dimension = 2, Hidden = c.Hidden, Blocks = c.Blocks, EmbeddingScale = c.EmbeddingScale };

    /// <summary>The teacher's training options for <paramref name="c"/> (EDM's, with the config's learning rate, decay and P_mean/P_std).</summary>
    public static EdmTrainingOptions TeacherOptions(ToyConfig c) => new()
    {
        LearningRate = c.TeacherLearningRate, Seed = c.Seed,
        Decay = c.TeacherDecay, DecayEndStep = Math.Max(1, c.TeacherSteps - 1), DecayFinalFactor = 0.01,
        PMean = c.TeacherPMean, PStd = c.TeacherPStd,
    };

    // The CTM batch rule, checked up front (Problems) and by TrainCtm: CtmLoss needs B ≥ 2; 0 means the teacher's batch.
    private static bool ValidCtmBatch(int ctmBatch) => ctmBatch == 0 || ctmBatch >= 2;
    private const string CtmBatchRule = "must be ≥ 2, or 0 for the teacher's batch.";

    /// <summary>The CTM distillation's training options for <paramref name="c"/>.</summary>
    public static CtmTrainingOptions DistillationOptions(ToyConfig c)
    {
        long decayStart = (long)(c.CtmSteps * c.DecayStartFraction);
        return new CtmTrainingOptions
        {
            LearningRate = c.CtmLearningRate,
            DsmWeight = c.DsmWeight,
            DsmPMean = c.DsmPMean,
            DsmPStd = c.DsmPStd,
            TeacherMode = c.TeacherMode,
            GanEnabled = c.Gan,
            GanStartStep = (long)(c.CtmSteps * c.GanStartFraction),
            TargetEmaRate = c.TargetEmaRate,
            EvalEmaRate = c.EvalEmaRate,
            GridPoints = c.GridPoints,
            MaxTeacherSteps = c.MaxTeacherSteps,
            TrajectoryBankSize = c.TeacherMode == TeacherMode.Teacher ? c.TrajectoryBank : 0,   // a self-teacher has no fixed trajectories
            DiscriminatorLearningRate = c.DiscriminatorLearningRate,
            GanWeight = c.GanWeight,
            GanSpecificTime = c.GanSpecificTime,
            GanMaxTeacherSteps = c.GanMaxTeacherSteps > 0 ? c.GanMaxTeacherSteps : c.GridPoints - 1,
            GanStepStrategy = c.GanStepStrategy,
            Decay = c.Decay,
            DecayStartStep = decayStart,
            DecayEndStep = Math.Max(c.CtmSteps - 1, decayStart + 1),   // the last iteration
            DecayFinalFactor = c.DecayFinalFactor,
            Seed = c.Seed + 1,
        };
    }

    /// <summary>
    /// The invalid settings of <paramref name="c"/>, checked before anything trains: every failing check of the config's
    /// own (iterations, batches, fractions), then the first failure each library validator reports for the network, the
    /// schedule and the teacher's options built from it, and — when nothing else failed, since its steps derive from the
    /// fractions — the distillation options'. Each message starts with the setting's name (<c>ToyConfig.Batch = 1: …</c>,
    /// <c>EdmTrainingOptions.PStd = 0: …</c>); empty when the config is valid.
    /// </summary>
    public static List<string> Problems(ToyConfig c)
    {
        var problems = new List<string>();
        void Need(bool ok, string setting, object value, string rule)
        {
            if (!ok) problems.Add(FormattableString.Invariant($"ToyConfig.{setting} = {value}: {rule}"));
        }
        Need(c.TeacherSteps >= 1, nameof(c.TeacherSteps), c.TeacherSteps, "must be ≥ 1.");
        Need(c.CtmSteps >= 1, nameof(c.CtmSteps), c.CtmSteps, "must be ≥ 1.");
        Need(c.CtmBatch != 0 ? c.Batch >= 1 : c.Batch >= 2, nameof(c.Batch), c.Batch,
            c.CtmBatch != 0 ? "must be ≥ 1." : "must be ≥ 2 (it is also the CTM's batch unless CtmBatch is set).");
        Need(ValidCtmBatch(c.CtmBatch), nameof(c.CtmBatch), c.CtmBatch, CtmBatchRule);
        Need(c.GanStartFraction is >= 0 and <= 1, nameof(c.GanStartFraction), c.GanStartFraction, "must lie in [0, 1] (a fraction of the CTM run).");
        Need(c.DecayStartFraction is >= 0 and < 1, nameof(c.DecayStartFraction), c.DecayStartFraction, "must lie in [0, 1) (a fraction of the CTM run).");
        Need(c.HuberC >= 0 && double.IsFinite(c.HuberC), nameof(c.HuberC), c.HuberC, "must be finite and ≥ 0 (0 = plain L2).");
        Need(c.DiscriminatorHidden >= 1, nameof(c.DiscriminatorHidden), c.DiscriminatorHidden, "must be ≥ 1.");
        Need(c.DiscriminatorFourierFeatures >= 0, nameof(c.DiscriminatorFourierFeatures), c.DiscriminatorFourierFeatures, "must be ≥ 0 (0 = raw coordinates).");
        Need(c.DiscriminatorFourierScale > 0 && double.IsFinite(c.DiscriminatorFourierScale), nameof(c.DiscriminatorFourierScale), c.DiscriminatorFourierScale,
            "must be finite and > 0 (cycles per unit).");
        Need(c.TrajectoryBank >= 0, nameof(c.TrajectoryBank), c.TrajectoryBank, "must be ≥ 0 (0 = a teacher segment per iteration).");
        void Library(Action validate)
        {
            try { validate(); }
            catch (ArgumentException e) { problems.Add(e.Message.Split(" (Parameter", 2)[0]); }
        }
        Library(() => Net(c).Validate());
        Library(() => c.Schedule.Validate());
        Library(() => TeacherOptions(c).Validate());
        if (problems.Count == 0) Library(() => DistillationOptions(c).Validate());   // its steps derive from the fractions above
        return problems;
    }

    /// <summary>Trains the teacher, or loads it from <paramref name="cachePath"/> when that file exists (and saves it there).</summary>
    public static TrainedTeacher TrainTeacher(IToyData data, ToyConfig c, IProgress<(long Step, long Total, double Loss)>? progress = null, string cachePath = "")
    {
        // One seed, one network: raw and EMA start from the same draws, independent of TorchSharp's global RNG.
        using var g0 = new Generator(c.Seed + 100);
        using var g1 = new Generator(c.Seed + 100);
        var raw = new DenoiserMlp(Net(c), generator: g0);
        var ema = new DenoiserMlp(Net(c), generator: g1);
        if (cachePath.Length > 0 && System.IO.File.Exists(cachePath))
        {
            ema.load(cachePath);
            ema.eval();
            return new TrainedTeacher { Network = ema, Raw = raw, Schedule = c.Schedule, Seconds = 0 };
        }
        var sw = Stopwatch.StartNew();
        using (var trainer = new EdmTeacherTrainer(new EdmDenoiser(raw, c.Schedule), new EdmDenoiser(ema, c.Schedule), TeacherOptions(c)))
        {
            trainer.Train(g => (data.Sample(c.Batch, g), null), c.TeacherSteps,
                progress: progress is null ? null : new SyncProgress<EdmTrainingProgress>(p => progress.Report((p.Step, c.TeacherSteps, p.Loss))));
        }
        ema.eval();
        if (cachePath.Length > 0) { System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(cachePath))!); ema.save(cachePath); }
        return new TrainedTeacher { Network = ema, Raw = raw, Schedule = c.Schedule, Seconds = sw.Elapsed.TotalSeconds };
    }

    public static TrainedCtm TrainCtm(IToyData data, TrainedTeacher? teacher, ToyConfig c, IProgress<CtmTrainingProgress>? progress = null)
    {
        if (!ValidCtmBatch(c.CtmBatch))
            throw new ArgumentOutOfRangeException(nameof(c), c.CtmBatch, "ToyConfig.CtmBatch (--ctm-batch) " + CtmBatchRule);
        using var g0 = new Generator(c.Seed + 200);
        using var g1 = new Generator(c.Seed + 200);
        using var g2 = new Generator(c.Seed + 200);
        using var gd = new Generator(c.Seed + 201);
        var student = new TrajectoryMlp(Net(c), generator: g0);
        var target = new TrajectoryMlp(Net(c), generator: g1);
        var evalEma = new TrajectoryMlp(Net(c), generator: g2);
        var disc = c.Gan ? new MlpDiscriminator(2, c.DiscriminatorHidden, 3, generator: gd,
            fourierFeatures: c.DiscriminatorFourierFeatures, fourierScale: c.DiscriminatorFourierScale) : null;
        if (teacher is not null) StudentInitialization.FromTeacher(student, teacher.Network);
        var options = DistillationOptions(c);
        var sw = Stopwatch.StartNew();
        CtmLossBreakdown? last = null;
        var (studentModel, targetModel) = (new CtmTrajectoryModel(student, c.Schedule), new CtmTrajectoryModel(target, c.Schedule));
        using var loss = new CtmLoss(studentModel, targetModel, c.TeacherMode == TeacherMode.Teacher ? teacher!.Denoiser : null, options,
            distance: c.HuberC > 0 ? Distances.PseudoHuber(c.HuberC) : null, lastLayerWeight: student.OutputLayer.weight, discriminator: disc);
        using (var trainer = new CtmTrainer(studentModel, targetModel, new CtmTrajectoryModel(evalEma, c.Schedule), loss, options))
        {
            trainer.Train(g => (data.Sample(c.CtmBatchSize, g), null), c.CtmSteps,
                progress: new SyncProgress<CtmTrainingProgress>(p => { if (!p.DiscriminatorStep) last = p.Loss; progress?.Report(p); }));
        }
        evalEma.eval();
        return new TrainedCtm { Student = student, Target = target, EvalEma = evalEma, Discriminator = disc, Schedule = c.Schedule, Seconds = sw.Elapsed.TotalSeconds, LastLoss = last };
    }
}

