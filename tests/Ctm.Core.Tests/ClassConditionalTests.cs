using System;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>Labels through the trajectory model, the losses and every sampler.</summary>
[Collection("Torch")]
public sealed class ClassConditionalTests
{
    private readonly ITestOutputHelper _out;
    public ClassConditionalTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void EverySamplerPutsAtLeast95PercentInTheRequestedClass()
    {
        using var m = GaussianMixtureModel.Ring(4, 1.0, 0.1, classPerMode: true, dtype: ScalarType.Float64);
        var shape = new long[] { 2 };
        var gamma = new GammaSampler(m, shape);
        var heun = new DiffusionSampler(m, shape);
        using var labels = arange(400, dtype: ScalarType.Int64) % 4;
        var samplers = new (string Name, Func<Generator, Tensor> Run)[]
        {
            ("γ=0 NFE 1", g => gamma.Sample(400, 0.0, 1, labels, g)),
            ("γ=0.5 NFE 3", g => gamma.Sample(400, 0.5, 3, labels, g)),
            ("γ=1 NFE 4", g => gamma.Sample(400, 1.0, 4, labels, g)),
            ("Heun NFE 35", g => heun.Sample(400, 18, labels, g)),
        };
        foreach (var (name, run) in samplers)
        {
            using var g = new Generator(5);
            using var x = run(g);
            using var mode = m.Responsibilities(x).argmax(1);
            for (int k = 0; k < 4; k++)
            {
                using var mask = labels.eq(k);
                double hit = mode.masked_select(mask).eq(k).to_type(ScalarType.Float64).mean().item<double>();
                _out.WriteLine($"{name}: class {k}: {hit:P1} in the requested class");
                Assert.True(hit >= 0.95, $"{name}, class {k}: {hit:P1}");
            }
        }
    }

    private static SongUNetConfig Tiny(bool student) => new()
    {
        ImgResolution = 8, InChannels = 1, OutChannels = 1, LabelDim = 3, ModelChannels = 8,
        ChannelMult = new[] { 1, 2 }, NumBlocks = 1, AttnResolutions = Array.Empty<int>(), Dropout = 0, TrajectoryBranch = student,
    };

    [Fact]
    public void ConditionalSongUNetRejectsBadLabels()
    {
        using var net = new SongUNet(Tiny(true), new Generator(1));
        var model = net.AsTrajectoryModel();
        using var x = zeros(2, 1, 8, 8);
        using var bad = tensor(new long[] { 0, 3 });
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => model.Jump(x, 1.0, 0.5, bad)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentNullException>(() => model.Jump(x, 1.0, 0.5)).ParamName);
        using var negative = tensor(new long[] { -1, 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Denoise(x, 1.0, negative));
        using var teacher = new SongUNet(Tiny(false), new Generator(1));
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => teacher.AsDenoiser().Denoise(x, 1.0, bad)).ParamName);
    }

    [Fact]
    public void LabelsReachTheCtmLossAndTheTrainer()
    {
        using var teacherNet = new SongUNet(Tiny(false), new Generator(2));
        using var student = new SongUNet(Tiny(true), new Generator(3));
        using var target = new SongUNet(Tiny(true), new Generator(3));
        using var ema = new SongUNet(Tiny(true), new Generator(3));
        // The official init scales conv1, proj and the output convolution by 1e-5, so a fresh DDPM++ network ignores its
        // embeddings (and the labels); perturb every weight, as the official fixtures do, so that labels matter.
        using (no_grad())
        using (var gp = new Generator(8))
            foreach (var p in teacherNet.parameters()) p.add_(randn(p.shape, generator: gp) * 0.1);
        StudentInitialization.FromTeacher(student, teacherNet);
        var options = new CtmTrainingOptions { MaxTeacherSteps = 2, Seed = 4 };
        var loss = new CtmLoss(student.AsTrajectoryModel(), target.AsTrajectoryModel(), teacherNet.AsDenoiser(), options, lastLayerWeight: student.OutputLayerWeight);
        using var gx = new Generator(6);
        using var x0 = randn(new long[] { 6, 1, 8, 8 }, generator: gx).clamp(-1, 1);
        using var a = tensor(new long[] { 0, 1, 2, 0, 1, 2 });
        using var b = tensor(new long[] { 2, 2, 2, 1, 1, 1 });
        double La, Lb, La2;
        using (var g = new Generator(7)) using (var r = loss.GeneratorLoss(x0, a, g, false)) La = r.Total.item<float>();
        using (var g = new Generator(7)) using (var r = loss.GeneratorLoss(x0, b, g, false)) Lb = r.Total.item<float>();
        using (var g = new Generator(7)) using (var r = loss.GeneratorLoss(x0, a, g, false)) La2 = r.Total.item<float>();
        _out.WriteLine($"loss with labels A {La:G6}, B {Lb:G6}, A again {La2:G6}");
        Assert.Equal(La, La2);
        Assert.True(Math.Abs(La - Lb) > 1e-3 * Math.Abs(La), $"labels changed the loss by only {Math.Abs(La - Lb):E2}");
        using var bad = tensor(new long[] { 0, 1, 2, 0, 1, 5 });
        using (var g = new Generator(7)) Assert.Throws<ArgumentOutOfRangeException>(() => loss.GeneratorLoss(x0, bad, g, false));

        var (sm, tm) = (student.AsTrajectoryModel(), target.AsTrajectoryModel());
        using var trainer = new CtmTrainer(sm, tm, ema.AsTrajectoryModel(),
            new CtmLoss(sm, tm, teacherNet.AsDenoiser(), options, lastLayerWeight: student.OutputLayerWeight), options);
        var step = trainer.TrainStep(g => (x0.clone(), a.clone()));
        Assert.True(step.Ctm is double c && double.IsFinite(c) && step.Dsm is double d && double.IsFinite(d), step.ToString());
    }
}
