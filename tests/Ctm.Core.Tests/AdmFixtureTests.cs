using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Ctm.Core.Checkpoints;
using Ctm.Core.Networks;
using Ctm.Core.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// AdmUNet against outputs of the official CTM ImageNet-64 code (sony/ctm code/cm/unet.py UNetModel with the
/// s-branch, code/cm/karras_diffusion.py get_denoised_and_G; fixtures in Fixtures/official-ctm-adm-tiny): F, g, G of
/// the student and D of the teacher to 1e-4 relative error, identical key lists.
/// </summary>
[Collection("Torch")]
public sealed class AdmFixtureTests
{
    private const double RelTol = 1e-4;
    private readonly ITestOutputHelper _out;

    public AdmFixtureTests(ITestOutputHelper output) => _out = output;

    internal sealed class Fixture : OfficialFixtureData
    {
        public Fixture() : base(Path.Combine(AppContext.BaseDirectory, "Fixtures", "official-ctm-adm-tiny"))
        {
            var c = Root.GetProperty("config");
            Assert.Equal("legacy", c.GetProperty("attention_type").GetString());
            Assert.False(c.GetProperty("use_new_attention_order").GetBoolean());
            Config = new AdmUNetConfig
            {
                ImageSize = c.GetProperty("image_size").GetInt32(),
                InChannels = c.GetProperty("in_channels").GetInt32(),
                OutChannels = c.GetProperty("out_channels").GetInt32(),
                ModelChannels = c.GetProperty("model_channels").GetInt32(),
                NumResBlocks = c.GetProperty("num_res_blocks").GetInt32(),
                AttentionDownsampleRates = Ints(c, "attention_resolutions"),
                Dropout = c.GetProperty("dropout").GetDouble(),
                ChannelMult = Ints(c, "channel_mult"),
                NumClasses = c.GetProperty("num_classes").GetInt32(),
                NumHeads = c.GetProperty("num_heads").GetInt32(),
                NumHeadChannels = c.GetProperty("num_head_channels").GetInt32(),
                UseScaleShiftNorm = c.GetProperty("use_scale_shift_norm").GetBoolean(),
                ResblockUpdown = c.GetProperty("resblock_updown").GetBoolean(),
            };
        }

        public AdmUNetConfig Config { get; }
        public string StudentPath => Path.Combine(Dir, "adm_ctm_tiny.pth");
        public string TeacherPath => Path.Combine(Dir, "adm_teacher_tiny.pth");
    }

    private double AssertRelClose(string what, Tensor expected, Tensor actual) =>
        TensorAssert.RelativeClose(what, expected, actual, RelTol, _out.WriteLine);

    private static string[] Sorted(System.Collections.Generic.IEnumerable<string> keys) => keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();

    [Fact]
    public void StudentMatchesOfficialFGAndJump()
    {
        using var fx = new Fixture();
        using var net = AdmUNet.FromCheckpoint(fx.Config, fx.StudentPath);   // eval mode
        Assert.Equal(Sorted(fx.StudentKeys), Sorted(net.state_dict().Keys));
        var model = net.AsTrajectoryModel();
        using var noGrad = no_grad();
        using var f = model.RawOutput(fx.X, fx.T, fx.S, fx.Labels);
        using var g = model.Predict(fx.X, fx.T, fx.S, fx.Labels);
        using var jump = model.Jump(fx.X, fx.T, fx.S, fx.Labels);
        AssertRelClose("ADM student F", fx.F, f);
        AssertRelClose("ADM student g", fx.G, g);
        AssertRelClose("ADM student G", fx.Jump, jump);
    }

    [Fact]
    public void TeacherMatchesOfficialD()
    {
        using var fx = new Fixture();
        using var net = new AdmUNet(fx.Config.AsTeacher()).LoadWeights(fx.TeacherPath);
        net.eval();
        Assert.Equal(Sorted(fx.TeacherKeys), Sorted(net.state_dict().Keys));
        using var noGrad = no_grad();
        using var d = net.AsDenoiser().Denoise(fx.X, fx.T, fx.Labels);
        AssertRelClose("ADM teacher D", fx.D, d);
    }

    [Fact]
    public void SBranchIsAdditive_AStudentWithTheTeachersWeightsAndAZeroSBranchIsTheTeacher()
    {
        using var fx = new Fixture();
        using var teacher = new AdmUNet(fx.Config.AsTeacher()).LoadWeights(fx.TeacherPath);
        using var student = new AdmUNet(fx.Config, new Generator(5));
        var (_, fresh) = StudentInitialization.FromTeacher(student, teacher);
        Assert.All(fresh, k => Assert.True(k.StartsWith("time_embed_s.", StringComparison.Ordinal) || k.Contains(".emb_layers_s.", StringComparison.Ordinal), k));
        Assert.Equal(fx.StudentKeys.Length - fx.TeacherKeys.Length, fresh.Count);
        using (no_grad())
            foreach (var (name, p) in student.named_parameters().Where(p => p.name.Contains(".emb_layers_s.", StringComparison.Ordinal)))
                p.zero_();
        teacher.eval();
        student.eval();
        using var noGrad = no_grad();
        using var d = teacher.AsDenoiser().Denoise(fx.X, fx.T, fx.Labels);
        using var g = student.AsTrajectoryModel().Predict(fx.X, fx.T, fx.S, fx.Labels);   // any s: the branch adds 0
        TensorAssert.Close(d, g, 1e-6, 1e-6);
    }

    [Fact]
    public void TeacherFileIntoStudentNamesTheMissingSBranchKeys()
    {
        using var fx = new Fixture();
        using var student = new AdmUNet(fx.Config);
        var e = Assert.Throws<StateDictMismatchException>(() => student.LoadWeights(fx.TeacherPath));
        Assert.Contains("time_embed_s.0.weight", e.MissingKeys);
        Assert.Contains("output_blocks.1.2.emb_layers_s.1.bias", e.MissingKeys);
        Assert.Equal(fx.StudentKeys.Length - fx.TeacherKeys.Length, e.MissingKeys.Count);
        using var wide = new AdmUNet(fx.Config.AsTeacher() with { ModelChannels = 64 });
        var m = Assert.Throws<StateDictMismatchException>(() => wide.LoadWeights(fx.TeacherPath));
        Assert.Contains(m.MismatchedKeys, k => k.StartsWith("input_blocks.0.0.weight: file [32, 3, 3, 3] vs module [64, 3, 3, 3]", StringComparison.Ordinal));
    }

    [Fact]
    public void ParameterCountFromThePlanMatchesTheBuiltNetworks_AndTheImageNet64PresetHasAdmsSize()
    {
        using var fx = new Fixture();
        foreach (var config in new[]
        {
            fx.Config, fx.Config.AsTeacher(),
            fx.Config with { ResblockUpdown = false, UseScaleShiftNorm = false, NumClasses = 0, NumHeadChannels = -1, NumHeads = 2 },
            fx.Config with { ResblockUpdown = false, ConvResample = false, ChannelMult = new[] { 1, 2, 2 }, NumResBlocks = 2 },
        })
        {
            using var net = new AdmUNet(config, new Generator(1));
            Assert.Equal(net.parameters().Sum(p => p.numel()), AdmUNetLayout.ParameterCount(config));
        }
        long teacher = AdmUNetLayout.ParameterCount(AdmUNetConfig.ImageNet64(trajectoryBranch: false));
        long student = AdmUNetLayout.ParameterCount(AdmUNetConfig.ImageNet64());
        _out.WriteLine($"ImageNet-64 ADM: teacher {teacher:N0} parameters, CTM student {student:N0}");
        Assert.InRange(teacher, 295_000_000L, 297_000_000L);   // ADM (Dhariwal & Nichol 2021) reports 296M for ImageNet 64×64
        Assert.True(student > teacher);
    }

    [Fact]
    public void AdmModels_AreTrainableModels_WithTheirSchedule_AndTrainThroughCtmTrainer()
    {
        // The wrappers carry the schedule they are given (ρ and σ_max read from the model by the loss) and the network
        // as the module the trainer optimises; one trainer step (teacher Heun steps, DSM with the adaptive weight on
        // OutputLayerWeight) moves the student's weights.
        using var fx = new Fixture();
        var schedule = new CtmOptions { SigmaMax = 40, Rho = 5 };
        using var teacherNet = new AdmUNet(fx.Config.AsTeacher()).LoadWeights(fx.TeacherPath);
        using var studentNet = new AdmUNet(fx.Config).LoadWeights(fx.StudentPath);
        using var targetNet = new AdmUNet(fx.Config).LoadWeights(fx.StudentPath);
        using var emaNet = new AdmUNet(fx.Config).LoadWeights(fx.StudentPath);
        teacherNet.eval();
        var student = studentNet.AsTrajectoryModel(schedule);
        ITrainableModel trainable = student;
        Assert.Same(studentNet, trainable.Network);
        Assert.Equal(5, student.Rho);
        var teacher = teacherNet.AsDenoiser(schedule);
        Assert.Same(teacherNet, ((ITrainableModel)teacher).Network);
        Assert.Equal(40, teacher.SigmaMax);

        var options = new CtmTrainingOptions { GridPoints = 6, MaxTeacherSteps = 2, GanEnabled = false, Seed = 3 };
        var target = targetNet.AsTrajectoryModel(schedule);
        var loss = new CtmLoss(student, target, teacher, options, lastLayerWeight: studentNet.OutputLayerWeight);
        Assert.Equal(40, loss.Grid[0], 12);
        using var trainer = new CtmTrainer(student, target, emaNet.AsTrajectoryModel(schedule), loss, options);
        var before = studentNet.parameters().Select(p => p.detach().clone()).ToArray();
        var result = trainer.TrainStep(g => (rand(new long[] { 2, 3, 16, 16 }, generator: g) * 2 - 1, tensor(new long[] { 1, 7 })));
        _out.WriteLine($"one ADM CTM step: {result}");
        Assert.True(result.IsFinite);
        Assert.NotNull(result.Ctm);
        Assert.NotNull(result.Dsm);
        double moved = studentNet.parameters().Zip(before, (p, b) => (p - b).abs().sum().item<float>()).Sum();
        foreach (var b in before) b.Dispose();
        Assert.True(moved > 0, "the student's weights did not move");
    }

    [Fact]
    public void PlainResamplersAndAdditiveFiLMBuildAndRun()
    {
        using var fx = new Fixture();
        var config = fx.Config with { ResblockUpdown = false, UseScaleShiftNorm = false, NumClasses = 0 };
        using var net = new AdmUNet(config, new Generator(3));
        var keys = net.state_dict().Keys.ToArray();
        Assert.Contains("input_blocks.2.0.op.weight", keys);       // Downsample with conv
        Assert.Contains("output_blocks.1.2.conv.weight", keys);    // Upsample with conv
        Assert.Equal(config.EmbChannels, net.state_dict()["input_blocks.1.0.emb_layers.1.weight"].shape[0] * 4);
        using var noGrad = no_grad();
        using var y = net.AsTrajectoryModel().Jump(fx.X, fx.T, fx.S);
        Assert.Equal(fx.X.shape, y.shape);
        Assert.Throws<ArgumentException>(() => net.AsTrajectoryModel().Jump(fx.X, fx.T, fx.S, fx.Labels));   // unconditional
        Assert.Throws<ArgumentException>(() => new AdmUNet(config with { ModelChannels = 48 }));             // 48 % 32 ≠ 0
    }
}
