using System;
using System.Collections.Generic;
using System.IO;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Training;
using TorchSharp;
using static Ctm.Core.Tests.Robustness.RobustnessCase;
using static Ctm.Core.Tests.Robustness.RobustnessFixtures;
using static TorchSharp.torch;

namespace Ctm.Core.Tests.Robustness;

internal static partial class RobustnessCases
{
    private static IEnumerable<RobustnessCase> Options()
    {
        RobustnessCase Ctm(string what, Action<CtmTrainingOptions> set) =>
            Arg<ArgumentException>($"CtmTrainingOptions.Validate: {what}", "options", () => { var o = new CtmTrainingOptions(); set(o); o.Validate(); });
        RobustnessCase Edm(string what, Action<EdmTrainingOptions> set) =>
            Arg<ArgumentException>($"EdmTrainingOptions.Validate: {what}", "options", () => { var o = new EdmTrainingOptions(); set(o); o.Validate(); });
        yield return Ctm("LearningRate +Inf (#6)", o => o.LearningRate = double.PositiveInfinity);
        yield return Ctm("LearningRate 1e300 (#6)", o => o.LearningRate = 1e300);
        yield return Ctm("LearningRate NaN", o => o.LearningRate = double.NaN);
        yield return Ctm("LearningRate 0", o => o.LearningRate = 0);
        yield return Ctm("DsmPMean NaN (#6)", o => o.DsmPMean = double.NaN);
        yield return Ctm("DsmPStd +Inf (#6)", o => o.DsmPStd = double.PositiveInfinity);
        yield return Ctm("DiscriminatorLearningRate +Inf (#6)", o => o.DiscriminatorLearningRate = double.PositiveInfinity);
        yield return Ctm("TargetEmaRate 1", o => o.TargetEmaRate = 1);
        yield return Ctm("EvalEmaRate NaN", o => o.EvalEmaRate = double.NaN);
        yield return Ctm("GridPoints 1", o => o.GridPoints = 1);
        yield return Ctm("MaxTeacherSteps 40", o => o.MaxTeacherSteps = 40);
        yield return Ctm("DsmWeight -1", o => o.DsmWeight = -1);
        yield return Ctm("GanWeight +Inf", o => o.GanWeight = double.PositiveInfinity);
        yield return Ctm("GanStartStep -1", o => o.GanStartStep = -1);
        yield return Ctm("DsmUniformFraction 0", o => o.DsmUniformFraction = 0);
        yield return Edm("PMean NaN (#6)", o => o.PMean = double.NaN);
        yield return Edm("PStd +Inf (#6)", o => o.PStd = double.PositiveInfinity);
        yield return Edm("LearningRate +Inf (#6)", o => o.LearningRate = double.PositiveInfinity);
        yield return Edm("EmaRate -0.1", o => o.EmaRate = -0.1);
        yield return Arg<ArgumentOutOfRangeException>("RectifiedAdam.ctor: lr 1e300 (#6)", "lr", () => { using var net = new TrajectoryMlp(Net()); new RectifiedAdam(net.parameters(), 1e300).Dispose(); });
        yield return Arg<ArgumentOutOfRangeException>("RectifiedAdam.LearningRate: +Inf", "value", () => { using var net = new TrajectoryMlp(Net()); using var a = new RectifiedAdam(net.parameters(), 1e-3); a.LearningRate = double.PositiveInfinity; });
        yield return Arg<ArgumentOutOfRangeException>("Ema.Update: mu 1", "mu", () => { using var a = new TrajectoryMlp(Net()); using var b = new TrajectoryMlp(Net()); Ema.Update(a, b, 1.0); });
        yield return Arg<ArgumentException>("Ema.Copy: another architecture", "destination", () => { using var a = new TrajectoryMlp(Net(8)); using var b = new TrajectoryMlp(Net(16)); Ema.Copy(a, b); });
    }

    private static IEnumerable<RobustnessCase> Trainers()
    {
        yield return Arg<ArgumentException>("CtmTrainer.ctor: target of another architecture (#11)", "target", () =>
        {
            using var s = new TrajectoryMlp(Net(8)); using var t = new TrajectoryMlp(Net(16)); using var e = new TrajectoryMlp(Net(8));
            var (sm, tm) = (new CtmTrajectoryModel(s), new CtmTrajectoryModel(t));
            var o = new CtmTrainingOptions { TeacherMode = TeacherMode.SelfTeacher, AdaptiveWeights = false };
            new CtmTrainer(sm, tm, new CtmTrajectoryModel(e), new CtmLoss(sm, tm, null, o), o).Dispose();
        });
        yield return Arg<ArgumentException>("CtmTrainer.ctor: student == target", "target", () =>
        {
            using var s = new TrajectoryMlp(Net()); using var e = new TrajectoryMlp(Net());
            var sm = new CtmTrajectoryModel(s);
            var o = new CtmTrainingOptions { TeacherMode = TeacherMode.SelfTeacher, AdaptiveWeights = false };
            new CtmTrainer(sm, sm, new CtmTrajectoryModel(e), new CtmLoss(sm, sm, null, o), o).Dispose();
        });
        yield return Arg<ArgumentException>("CtmLoss.ctor: lastLayerWeight of the target network (#7)", "lastLayerWeight", () =>
        {
            using var s = new TrajectoryMlp(Net()); using var t = new TrajectoryMlp(Net());
            _ = new CtmLoss(new CtmTrajectoryModel(s), new CtmTrajectoryModel(t), null, new CtmTrainingOptions { TeacherMode = TeacherMode.SelfTeacher }, null, t.OutputLayer.weight);
        });
        yield return Arg<ArgumentException>("CtmLoss.ctor: lastLayerWeight without gradients (#7)", "lastLayerWeight", () =>
        {
            using var s = new TrajectoryMlp(Net()); using var t = new TrajectoryMlp(Net());
            s.OutputLayer.weight!.requires_grad_(false);
            _ = new CtmLoss(new CtmTrajectoryModel(s), new CtmTrajectoryModel(t), null, new CtmTrainingOptions { TeacherMode = TeacherMode.SelfTeacher }, null, s.OutputLayer.weight);
        });
        yield return Arg<ArgumentOutOfRangeException>("CtmTrainer.Train: steps -1", "steps", () => { using var r = new CtmRig(); r.Trainer.Train(CtmRig.Batch, -1); });
        yield return Arg<ArgumentOutOfRangeException>("CtmTrainer.Train: checkpointEvery -1", "checkpointEvery", () => { using var r = new CtmRig(); r.Trainer.Train(CtmRig.Batch, 1, PathOf("c"), -1); });
        yield return Arg<ArgumentException>("CtmTrainer.Train: checkpointPath \"\" fails before training (#11)", "checkpointPath", () =>
        {
            using var r = new CtmRig();
            try { r.Trainer.Train(CtmRig.Batch, 2, checkpointPath: ""); }
            finally { if (r.Trainer.Step != 0) throw new PartialStateException($"{r.Trainer.Step} steps ran before the error"); }
        });
        yield return Arg<ArgumentNullException>("CtmTrainer.TrainStep: batch null", "batch", () => { using var r = new CtmRig(); r.Trainer.TrainStep(null!); });
        yield return Op("CtmTrainer.TrainStep: inside inference_mode (#1)", () => { using var r = new CtmRig(); using var m = inference_mode(); r.Trainer.TrainStep(CtmRig.Batch); });
        yield return Arg<ArgumentException>("CtmTrainer.SaveCheckpoint: path \"\"", "path", () => { using var r = new CtmRig(); r.Trainer.SaveCheckpoint(""); });
        yield return Arg<ArgumentOutOfRangeException>("EdmTeacherTrainer.Train: steps -5 (#6)", "steps", () => WithTeacher(t => t.Train(CtmRig.Batch, -5)));
        yield return Arg<ArgumentException>("EdmTeacherTrainer.Train: checkpointPath \" \" (#11)", "checkpointPath", () => WithTeacher(t => t.Train(CtmRig.Batch, 1, checkpointPath: " ")));
        yield return Op("EdmTeacherTrainer.TrainStep: inside inference_mode (#1)", () => WithTeacher(t => { using var m = inference_mode(); t.TrainStep(CtmRig.Batch); }));
        yield return Arg<ArgumentException>("EdmTeacherTrainer.ctor: ema of another architecture (#11)", "ema", () =>
        {
            using var a = new DenoiserMlp(Net(8)); using var b = new DenoiserMlp(Net(16));
            new EdmTeacherTrainer(new EdmDenoiser(a), new EdmDenoiser(b)).Dispose();
        });
        yield return Arg<ArgumentException>("EdmTeacherTrainer.ctor: options PMean NaN (#6)", "options", () =>
        {
            using var a = new DenoiserMlp(Net()); using var b = new DenoiserMlp(Net());
            new EdmTeacherTrainer(new EdmDenoiser(a), new EdmDenoiser(b), new EdmTrainingOptions { PMean = double.NaN }).Dispose();
        });
        yield return Arg<ArgumentException>("EdmLoss.PerSample: pStd +Inf", "pStd", () =>
        {
            using var a = new DenoiserMlp(Net()); using var g = new Generator(1); using var x = X();
            EdmLoss.PerSample(new EdmDenoiser(a), x, g, pStd: double.PositiveInfinity).Dispose();
        });
    }

    private static void WithTeacher(Action<EdmTeacherTrainer> body, bool radam = false, int hidden = 8)
    {
        using var a = new DenoiserMlp(Net(hidden)); using var b = new DenoiserMlp(Net(hidden));
        using var t = new EdmTeacherTrainer(new EdmDenoiser(a), new EdmDenoiser(b), new EdmTrainingOptions { UseRAdam = radam });
        body(t);
    }
}
