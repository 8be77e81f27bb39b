using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Schedules;
using Ctm.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>The 1.0 contracts: the schedule comes from the model, sample counts and shapes cannot be mis-bound.</summary>
[Collection("Torch")]
public sealed class ContractTests
{
    private static readonly CtmOptions Rho3 = new() { Rho = 3 };

    [Fact]
    public void EverySamplerAndTheLoss_ReadRhoFromTheModel()
    {
        using var m = new GaussianModel(new[] { 0.0, 0.0 }, 0.5, Rho3, ScalarType.Float64);
        Assert.Equal(3, m.Rho);

        var jumps = new List<SamplingProgress>();
        new GammaSampler(m, new long[] { 2 }).Sample(4, 0.0, 4, progress: new SyncProgress<SamplingProgress>(jumps.Add)).Dispose();
        Assert.Equal(KarrasSchedule.SamplingGrid(4, rho: 3)[..4], jumps.Select(r => r.T));
        Assert.NotEqual(KarrasSchedule.SamplingGrid(4)[..4], jumps.Select(r => r.T));

        var steps = new List<SamplingProgress>();
        new DiffusionSampler(m, new long[] { 2 }).Sample(4, 5, progress: new SyncProgress<SamplingProgress>(steps.Add)).Dispose();
        Assert.Equal(KarrasSchedule.EdmGrid(5, rho: 3)[..5], steps.Select(r => r.T));

        var loss = new CtmLoss(m, m, m, new CtmTrainingOptions { GridPoints = 6, MaxTeacherSteps = 2, DsmWeight = 0, AdaptiveWeights = false });
        Assert.Equal(KarrasSchedule.Sigmas(6, rho: 3), loss.Grid);
    }

    [Fact]
    public void ModelsOfOneRun_MustShareTheSchedule()
    {
        using var a = new GaussianModel(new[] { 0.0 }, 0.5, dtype: ScalarType.Float64);
        using var b = new GaussianModel(new[] { 0.0 }, 0.5, Rho3, ScalarType.Float64);
        var e = Assert.Throws<ArgumentException>(() => new CtmLoss(a, b, a, new CtmTrainingOptions { DsmWeight = 0, AdaptiveWeights = false }));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("ρ 3", e.Message);
    }

    [Fact]
    public void ALongSampleCount_BindsToTheCountOverload()
    {
        using var m = new GaussianModel(new[] { 0.0, 1.0 }, 0.5);
        IGammaSampler gamma = new GammaSampler(m, new long[] { 2 });
        long n = 10;
        using var g = new Generator(1);
        using var x = gamma.Sample(n, 0.0, 1, generator: g);                 // was: the Tensor overload, "xT must have a batch dimension"
        Assert.Equal(new long[] { 10, 2 }, x.shape);
        using var y = new DiffusionSampler(m, new long[] { 2 }).Sample(n, 2, generator: g);
        Assert.Equal(new long[] { 10, 2 }, y.shape);
    }

    [Fact]
    public void TheXTAndStepsOverload_IsOnTheInterface()
    {
        using var m = new GaussianModel(new[] { 0.0, 1.0 }, 0.5, dtype: ScalarType.Float64);
        IGammaSampler sampler = new GammaSampler(m, new long[] { 2 });
        using var g = new Generator(2);
        using var xT = randn(new long[] { 8, 2 }, dtype: ScalarType.Float64, generator: g) * m.SigmaMax;
        using var a = sampler.Sample(xT, 0.0, 3);
        using var b = sampler.Sample(xT, 0.0, KarrasSchedule.SamplingGrid(3));
        TensorAssert.Close(a, b, 0, 0);
    }

    /// <summary>A network that trusts its input shape, so a wrong shape fails inside libtorch (mat1 and mat2 …).</summary>
    private sealed class BareLinearNet : nn.Module<Tensor, Tensor, Tensor, Tensor>
    {
        private readonly Linear lin;
        public BareLinearNet(int d) : base("bare") { lin = nn.Linear(d, d); RegisterComponents(); }
        public override Tensor forward(Tensor x, Tensor ct, Tensor cs) => lin.call(x);
    }

    [Fact]
    public void ASampleShapeThatDoesNotFitTheNetwork_IsAnArgumentExceptionNamingSampleShape()
    {
        using var bare = new BareLinearNet(4);
        var model = new CtmTrajectoryModel(bare);
        var e = Assert.Throws<ArgumentException>(() => new GammaSampler(model, new long[] { 5 }));
        Assert.Equal("sampleShape", e.ParamName);
        Assert.Contains("[5]", e.Message);
        Assert.Contains("[2, 5]", e.Message);
        Assert.Equal("sampleShape", Assert.Throws<ArgumentException>(() => new DiffusionSampler(model, new long[] { 4, 1 })).ParamName);

        using var mlp = new TrajectoryMlp(new MlpOptions { Dimension = 4, Hidden = 8, Blocks = 1, EmbeddingChannels = 8 });
        Assert.Equal("sampleShape", Assert.Throws<ArgumentException>(() => new GammaSampler(new CtmTrajectoryModel(mlp), new long[] { 3 })).ParamName);

        using var analytic = new GaussianModel(new[] { 0.0, 0.0 }, 0.5);
        Assert.Equal("sampleShape", Assert.Throws<ArgumentException>(() => new GammaSampler(analytic, new long[] { 3 })).ParamName);

        // The right shape passes, and the probe leaves no live tensor behind.
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        _ = new GammaSampler(model, new long[] { 4 });
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void LossBreakdown_NamesOnlyTheComputedTerms_NeverNaN()
    {
        var net = new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 1, EmbeddingChannels = 16 };
        using var s = new TrajectoryMlp(net); using var t = new TrajectoryMlp(net); using var e = new TrajectoryMlp(net);
        using var teacher = new DenoiserMlp(net);
        using var disc = new MlpDiscriminator(2, 16, 2);
        using var data = GaussianMixtureModel.Ring(4, 1.0, 0.1);
        var o = new CtmTrainingOptions { GridPoints = 8, MaxTeacherSteps = 3, DsmWeight = 0, GanEnabled = true, GanStartStep = 2, Seed = 3 };
        var (sm, tm) = (new CtmTrajectoryModel(s), new CtmTrajectoryModel(t));
        using var trainer = new CtmTrainer(sm, tm, new CtmTrajectoryModel(e),
            new CtmLoss(sm, tm, new EdmDenoiser(teacher), o, lastLayerWeight: s.OutputLayer.weight, discriminator: disc), o);
        var seen = new List<CtmTrainingProgress>();
        trainer.Train(g => (data.SampleData(32, g), null), 5, progress: new SyncProgress<CtmTrainingProgress>(seen.Add));

        Assert.Equal(new[] { "ctm" }, seen[0].Loss.Terms.Keys);                      // DSM off, GAN not started
        Assert.Null(seen[0].Loss.Dsm);
        Assert.Null(seen[0].Loss.LambdaDsm);
        Assert.Equal(new[] { "ctm", "gan_g" }, seen[2].Loss.Terms.Keys.OrderBy(k => k));   // GAN on from step 2
        Assert.True(seen[3].DiscriminatorStep);
        Assert.Equal(new[] { "gan_d" }, seen[3].Loss.Terms.Keys);
        Assert.All(seen, p => Assert.True(p.Loss.IsFinite && p.Loss.Terms.Values.All(double.IsFinite), p.Loss.ToString()));
        Assert.All(seen, p => Assert.DoesNotContain("NaN", p.Loss.ToString()));
    }

    /// <summary>A new loss term as a decorator: the official objective plus λ·mean|G_θ(x_t, t, σ_min)|.</summary>
    private sealed class WithL1 : ICtmLoss
    {
        private readonly ICtmLoss _inner;
        private readonly ITrajectoryModel _student;
        public WithL1(ICtmLoss inner, ITrajectoryModel student) { _inner = inner; _student = student; }
        public nn.Module? Discriminator => _inner.Discriminator;
        public CtmLossResult DiscriminatorLoss(Tensor x0, Tensor? labels, Generator generator) => _inner.DiscriminatorLoss(x0, labels, generator);
        public CtmLossResult GeneratorLoss(Tensor x0, Tensor? labels, Generator generator, bool withGan)
        {
            using var inner = _inner.GeneratorLoss(x0, labels, generator, withGan);
            using var scope = NewDisposeScope();
            var l1 = _student.Jump(x0, 1.0, _student.SigmaMin, labels).abs().mean();
            var total = inner.Total + 0.5 * l1;
            var terms = new Dictionary<string, double>(inner.Breakdown.Terms) { ["l1"] = l1.item<float>() };
            return new CtmLossResult(total.MoveToOuterDisposeScope(), new CtmLossBreakdown(terms, inner.Breakdown.Weights, inner.Breakdown.K));
        }
    }

    [Fact]
    public void ANewLossTerm_IsANewICtmLoss_WithNoTrainerChange()
    {
        var net = new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 1, EmbeddingChannels = 16 };
        using var data = GaussianMixtureModel.Ring(4, 1.0, 0.1);
        float[] Train(bool withL1, out CtmLossBreakdown last)
        {
            torch.manual_seed(11);
            using var s = new TrajectoryMlp(net); using var t = new TrajectoryMlp(net); using var e = new TrajectoryMlp(net);
            var o = new CtmTrainingOptions { TeacherMode = TeacherMode.SelfTeacher, DsmWeight = 0, AdaptiveWeights = false, GridPoints = 8, MaxTeacherSteps = 3, Seed = 4 };
            var (sm, tm) = (new CtmTrajectoryModel(s), new CtmTrajectoryModel(t));
            ICtmLoss loss = new CtmLoss(sm, tm, null, o);
            using var trainer = new CtmTrainer(sm, tm, new CtmTrajectoryModel(e), withL1 ? new WithL1(loss, sm) : loss, o);
            last = trainer.TrainStep(g => (data.SampleData(32, g), null));
            last = trainer.TrainStep(g => (data.SampleData(32, g), null));
            return s.OutputLayer.weight.data<float>().ToArray();
        }
        var plain = Train(false, out var plainLoss);
        var extended = Train(true, out var extendedLoss);
        Assert.False(plainLoss.Terms.ContainsKey("l1"));
        Assert.True(extendedLoss.Term("l1") is double l1 && l1 > 0, extendedLoss.ToString());
        Assert.NotEqual(plain, extended);   // the new term's gradient reached the student
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TeacherTrainer_ResumesExactly(bool radam)
    {
        var net = new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 1, EmbeddingChannels = 16 };
        using var data = GaussianMixtureModel.Ring(4, 1.0, 0.1);
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "edm-resume-" + Guid.NewGuid().ToString("N"));
        string path = System.IO.Path.Combine(dir, "teacher.ckpt");
        (DenoiserMlp, DenoiserMlp, EdmTeacherTrainer) Rig(ulong seed)
        {
            using var g0 = new Generator(5); using var g1 = new Generator(6);
            var raw = new DenoiserMlp(net, generator: g0); var ema = new DenoiserMlp(net, generator: g1);
            return (raw, ema, new EdmTeacherTrainer(new EdmDenoiser(raw), new EdmDenoiser(ema),
                new EdmTrainingOptions { Seed = seed, UseRAdam = radam, EmaRate = 0.9 }));
        }
        Func<Generator, (Tensor, Tensor?)> batch = g => (data.SampleData(32, g), null);
        try
        {
            var straight = new List<double>();
            var (r1, e1, a) = Rig(1);
            using (a) { for (int i = 0; i < 6; i++) straight.Add(a.TrainStep(batch)); }
            var resumed = new List<double>();
            var (r2, e2, b) = Rig(1);
            using (b)
            {
                b.Train(batch, 3, checkpointPath: path, progress: new SyncProgress<EdmTrainingProgress>(p => resumed.Add(p.Loss)));
            }
            var (r3, e3, c) = Rig(99);
            using (c)
            {
                c.LoadCheckpoint(path);
                Assert.Equal(3, c.Step);
                for (int i = 0; i < 3; i++) resumed.Add(c.TrainStep(batch));
            }
            Assert.Equal(straight, resumed);
            Assert.Equal(e1.parameters().First().data<float>().ToArray(), e3.parameters().First().data<float>().ToArray());
            foreach (var m in new nn.Module[] { r1, e1, r2, e2, r3, e3 }) m.Dispose();
        }
        finally { if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, true); }
    }

    [Fact]
    public void EmaRateForRun_ScalesTheWindowToTheRunLength()
    {
        Assert.Equal(0.99, Ema.RateForRun(2000), 12);
        Assert.Equal(1 - 1 / 15.0, Ema.RateForRun(300), 12);
        Assert.Equal(0.0, Ema.RateForRun(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ema.RateForRun(0));
    }
}
