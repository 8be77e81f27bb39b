using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

[Collection("Torch")]
public class CtmTrainerTests : IDisposable
{
    private static readonly MlpOptions Net = new() { Dimension = 2, Hidden = 16, Blocks = 1, EmbeddingChannels = 16 };
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ctm-tests-" + Guid.NewGuid().ToString("N"));
    private readonly GaussianMixtureModel _data = GaussianMixtureModel.Ring(4, 1.0, 0.1);

    public void Dispose()
    {
        _data.Dispose();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    /// <summary>A complete trainer over fresh networks (teacher included), GAN from step 2.</summary>
    private sealed class Rig : IDisposable
    {
        public readonly TrajectoryMlp Student = new(Net), Target = new(Net), EvalEma = new(Net);
        public readonly DenoiserMlp Teacher = new(Net);
        public readonly MlpDiscriminator Disc = new(2, 16, 2);
        public readonly CtmTrainer Trainer;

        public Rig(ulong seed = 7, IDistance? distance = null, long ganStart = 2, Func<ICtmLoss, ICtmLoss>? wrapLoss = null,
            Action<CtmTrainingOptions>? configure = null)
        {
            // Identical initial weights across rigs: seed the global RNG only here, around construction.
            torch.manual_seed(123);
            foreach (var m in new nn.Module[] { Student, Target, EvalEma, Teacher, Disc })
                foreach (var p in m.parameters()) using (no_grad()) p.copy_(torch.randn(p.shape) * 0.3);
            var options = new CtmTrainingOptions { Seed = seed, GanEnabled = true, GanStartStep = ganStart, GridPoints = 10, MaxTeacherSteps = 4 };
            configure?.Invoke(options);
            var (student, target) = (new CtmTrajectoryModel(Student), new CtmTrajectoryModel(Target));
            var loss = new CtmLoss(student, target, new EdmDenoiser(Teacher), options, distance, Student.OutputLayer.weight, Disc);
            Trainer = new CtmTrainer(student, target, new CtmTrajectoryModel(EvalEma), wrapLoss?.Invoke(loss) ?? loss, options);
        }

        public void Dispose()
        {
            Trainer.Dispose();
            Student.Dispose(); Target.Dispose(); EvalEma.Dispose(); Teacher.Dispose(); Disc.Dispose();
        }
    }

    private Func<Generator, (Tensor, Tensor?)> Batch => g => (_data.SampleData(32, g), null);

    private static double Value(CtmLossBreakdown b) => b.Ctm is double ctm ? ctm + 1000 * b.Dsm!.Value : b.GanDiscriminator!.Value;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Resume_ContinuesExactlyLikeAnUninterruptedRun(bool decay)
    {
        // With the learning-rate decay on, the rate of every iteration must follow from the restored step count.
        Action<CtmTrainingOptions>? configure = decay ? o => { o.Decay = LearningRateDecay.Cosine; o.DecayStartStep = 1; o.DecayEndStep = 7; } : null;
        var uninterrupted = new List<double>();
        using (var a = new Rig(configure: configure))
            for (int i = 0; i < 8; i++) uninterrupted.Add(Value(a.Trainer.TrainStep(Batch)));

        var resumed = new List<double>();
        string path = Path.Combine(_dir, "ckpt.bin");
        using (var b = new Rig(configure: configure))
        {
            for (int i = 0; i < 4; i++) resumed.Add(Value(b.Trainer.TrainStep(Batch)));
            b.Trainer.SaveCheckpoint(path);
        }
        using (var c = new Rig(seed: 999, configure: configure)) // different seed and state: everything must come from the checkpoint
        {
            c.Trainer.LoadCheckpoint(path);
            Assert.Equal(4, c.Trainer.Step);
            for (int i = 0; i < 4; i++) resumed.Add(Value(c.Trainer.TrainStep(Batch)));
        }
        Assert.Equal(uninterrupted, resumed);
        Assert.Contains(uninterrupted, v => v < 10 && v > -10); // discriminator steps were part of the run
    }

    [Fact]
    public void LearningRateDecay_ScalesEachGeneratorUpdateByItsFactor()
    {
        // Two identical runs; the second decays linearly to 0.25 × the rate between iterations 0 and 1. Iteration 0 is
        // the same in both, so iteration 1 starts from equal weights and optimiser state, and its update must be exactly
        // 0.25 × the constant run's (RAdam's early steps are linear in the rate).
        using var constant = new Rig(ganStart: 100);
        using var decayed = new Rig(ganStart: 100, configure: o => { o.Decay = LearningRateDecay.Linear; o.DecayStartStep = 0; o.DecayEndStep = 1; o.DecayFinalFactor = 0.25; });
        constant.Trainer.TrainStep(Batch);
        decayed.Trainer.TrainStep(Batch);
        var before = constant.Student.parameters().Select(p => p.detach().clone()).ToList();
        foreach (var (a, b) in before.Zip(decayed.Student.parameters())) Assert.True(a.allclose(b, rtol: 0, atol: 0), "iteration 0 must not be decayed");
        constant.Trainer.TrainStep(Batch);
        decayed.Trainer.TrainStep(Batch);
        double moved = 0;
        foreach (var ((p0, pc), pd) in before.Zip(constant.Student.parameters()).Zip(decayed.Student.parameters()))
        {
            using var dc = pc.detach() - p0;
            using var dd = pd.detach() - p0;
            moved += dc.abs().sum().item<float>();
            using var expected = dc * 0.25;
            TensorAssert.Close(expected, dd, rtol: 1e-3, atol: 1e-7);
        }
        Assert.True(moved > 1e-4, "the constant run's weights must move");
        foreach (var t in before) t.Dispose();
    }

    [Fact]
    public void Checkpoint_RoundTripsEveryNetwork()
    {
        string path = Path.Combine(_dir, "rt.bin");
        Dictionary<string, Tensor> before;
        using (var a = new Rig())
        {
            for (int i = 0; i < 3; i++) a.Trainer.TrainStep(Batch);
            a.Trainer.SaveCheckpoint(path);
            before = Snapshot(a);
        }
        using var b = new Rig(seed: 5);
        b.Trainer.LoadCheckpoint(path);
        var after = Snapshot(b);
        Assert.Equal(before.Keys.OrderBy(k => k), after.Keys.OrderBy(k => k));
        foreach (var k in before.Keys) Assert.True(before[k].equal(after[k]).all().item<bool>(), k);
        foreach (var t in before.Values.Concat(after.Values)) t.Dispose();
    }

    private static Dictionary<string, Tensor> Snapshot(Rig r)
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (prefix, m) in new (string, nn.Module)[] { ("s", r.Student), ("t", r.Target), ("e", r.EvalEma), ("d", r.Disc) })
            foreach (var (name, p) in m.named_parameters()) d[prefix + "." + name] = p.detach().clone();
        return d;
    }

    [Fact]
    public void TruncatedCheckpoint_IsRejectedWithAClearError()
    {
        string path = Path.Combine(_dir, "trunc.bin");
        using var a = new Rig();
        a.Trainer.TrainStep(Batch);
        a.Trainer.SaveCheckpoint(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => a.Trainer.LoadCheckpoint(path));
        Assert.Contains("truncated", e.Message);
        File.WriteAllBytes(path, bytes[..10]);
        Assert.Throws<InvalidDataException>(() => a.Trainer.LoadCheckpoint(path));
        Assert.Throws<FileNotFoundException>(() => a.Trainer.LoadCheckpoint(path + ".missing"));
    }

    [Fact]
    public void CheckpointWrite_IsAtomic_NoTempFilesLeft()
    {
        string path = Path.Combine(_dir, "atomic.bin");
        using var a = new Rig();
        a.Trainer.SaveCheckpoint(path);
        a.Trainer.TrainStep(Batch);
        a.Trainer.SaveCheckpoint(path); // overwrite
        Assert.Single(Directory.GetFiles(_dir));
        Assert.Equal(1, CheckpointFile.Read(path).ContainsKey("student") ? 1 : 0);
    }

    [Fact]
    public void NaNLoss_StopsTraining_WithoutTouchingWeightsOrTheLastCheckpoint()
    {
        string path = Path.Combine(_dir, "good.bin");
        int calls = 0;
        var poison = Distances.Custom((a, b) => (a - b).square().mean(new long[] { 1 }) * (++calls > 2 ? float.NaN : 1f));
        using var r = new Rig(distance: poison, ganStart: 1000);
        r.Trainer.TrainStep(Batch);
        r.Trainer.SaveCheckpoint(path);
        var good = File.ReadAllBytes(path);
        r.Trainer.TrainStep(Batch);
        var before = r.Student.parameters().Select(p => p.detach().clone()).ToList();
        var e = Assert.Throws<TrainingDivergedException>(() => r.Trainer.TrainStep(Batch));
        Assert.Contains("not finite", e.Message);
        Assert.Equal(2, e.Step);
        var afterParams = r.Student.parameters().ToList();
        for (int i = 0; i < before.Count; i++) Assert.True(before[i].equal(afterParams[i]).all().item<bool>());
        Assert.Equal(good, File.ReadAllBytes(path));
        foreach (var t in before) t.Dispose();
    }

    [Fact]
    public void GraphlessCustomDistance_IsAClearException_NotANativeCrash()
    {
        var broken = Distances.Custom((a, b) => (a.detach() - b).square().mean(new long[] { 1 }));
        using var r = new Rig(distance: broken, ganStart: 1000);
        var e = Assert.Throws<InvalidOperationException>(() => r.Trainer.TrainStep(Batch));
        Assert.Contains("differentiable", e.Message);
    }

    [Fact]
    public void Resume_WithATrajectoryBank_ContinuesExactly()
    {
        // The bank is not in the checkpoint: it is rebuilt from the options' Seed at the first iteration after a resume,
        // and every draw's rows come from the checkpointed generator, so resuming with the same options continues the run
        // exactly (on the grid-constant path the library's MLP models take).
        Action<CtmTrainingOptions> bank = o => o.TrajectoryBankSize = 512;
        var uninterrupted = new List<double>();
        using (var a = new Rig(configure: bank))
            for (int i = 0; i < 6; i++) uninterrupted.Add(Value(a.Trainer.TrainStep(Batch)));
        var withoutBank = new List<double>();
        using (var a = new Rig())
            for (int i = 0; i < 6; i++) withoutBank.Add(Value(a.Trainer.TrainStep(Batch)));
        Assert.NotEqual(withoutBank, uninterrupted);   // the bank is used

        var resumed = new List<double>();
        string path = Path.Combine(_dir, "ckpt-bank.bin");
        using (var b = new Rig(configure: bank))
        {
            for (int i = 0; i < 3; i++) resumed.Add(Value(b.Trainer.TrainStep(Batch)));
            b.Trainer.SaveCheckpoint(path);
        }
        using (var c = new Rig(configure: bank))
        {
            c.Trainer.LoadCheckpoint(path);
            for (int i = 0; i < 3; i++) resumed.Add(Value(c.Trainer.TrainStep(Batch)));
        }
        Assert.Equal(uninterrupted, resumed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(512)]
    public void LiveTensorCount_IsFlatOver200Steps(int trajectoryBank)
    {
        using var r = new Rig(ganStart: 10, configure: o => o.TrajectoryBankSize = trajectoryBank);
        for (int i = 0; i < 20; i++) r.Trainer.TrainStep(Batch);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 200; i++) r.Trainer.TrainStep(Batch);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void StudentInitialization_CopiesTheTeacher_KeepsTheSBranchFresh()
    {
        using var student = new TrajectoryMlp(Net);
        using var teacher = new DenoiserMlp(Net);
        var (copied, fresh) = StudentInitialization.FromTeacher(student, teacher);
        Assert.All(fresh, k => Assert.True(k.StartsWith("map_s.") || k.Contains(".affine_s."), k));
        var sd = student.state_dict();
        foreach (var k in copied) Assert.True(sd[k].equal(teacher.state_dict()[k]).all().item<bool>(), k);
        // With a zeroed s-branch the student is exactly the teacher on the diagonal.
        using (no_grad()) foreach (var k in fresh.Where(k => k.Contains("affine_s"))) sd[k].zero_();
        using var x = randn(8, 2);
        using var d1 = new CtmTrajectoryModel(student).Denoise(x, 0.7);
        using var d2 = new EdmDenoiser(teacher).Denoise(x, 0.7);
        TensorAssert.Close(d2, d1, 1e-5, 1e-6);
    }

    [Fact]
    public void TrainingReducesTheCtmLoss()
    {
        using var r = new Rig(ganStart: 100_000);
        double first = 0, last = 0;
        for (int i = 0; i < 150; i++)
        {
            var b = r.Trainer.TrainStep(Batch);
            if (i < 20) first += b.Ctm!.Value / 20; else if (i >= 130) last += b.Ctm!.Value / 20;
        }
        Assert.True(last < first, $"CTM loss did not fall: {first} → {last}");
    }
}
