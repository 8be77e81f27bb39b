using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Ctm.Core.Checkpoints;
using Ctm.Core.Networks;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// SongUNet against outputs of the official CTM code (Kim-Dongjun/ctm-cifar10 cm/networks.py, fixtures in
/// Fixtures/official-ctm-tiny): F, g, G of the student and D of the EDM teacher to 1e-4 relative error.
/// </summary>
[Collection("Torch")]
public sealed class OfficialFixtureTests
{
    private const double RelTol = 1e-4;
    private readonly ITestOutputHelper _out;

    public OfficialFixtureTests(ITestOutputHelper output) => _out = output;

    internal sealed class Fixture : OfficialFixtureData
    {
        public Fixture(string name) : base(Path.Combine(AppContext.BaseDirectory, "Fixtures", "official-ctm-tiny", name))
        {
            var sc = Root.GetProperty("student_config");
            Config = new SongUNetConfig
            {
                ImgResolution = sc.GetProperty("img_resolution").GetInt32(),
                InChannels = sc.GetProperty("img_channels").GetInt32(),
                OutChannels = sc.GetProperty("img_channels").GetInt32(),
                LabelDim = sc.GetProperty("label_dim").GetInt32(),
                ModelChannels = sc.GetProperty("model_channels").GetInt32(),
                ChannelMult = Ints(sc, "channel_mult"),
                NumBlocks = sc.GetProperty("num_blocks").GetInt32(),
                AttnResolutions = Ints(sc, "attn_resolutions"),
                Dropout = sc.GetProperty("dropout").GetDouble(),
            };
        }

        public SongUNetConfig Config { get; }
        public string StudentPath => Path.Combine(Dir, "songunet_ctm_tiny.pth");
        public string TeacherPath => Path.Combine(Dir, "edm_teacher_tiny.pth");
    }

    private double AssertRelClose(string what, Tensor expected, Tensor actual) =>
        TensorAssert.RelativeClose(what, expected, actual, RelTol, _out.WriteLine);

    [Theory]
    [InlineData("uncond")]
    [InlineData("cond")]
    public void StudentMatchesOfficialFGAndJump(string name)
    {
        using var fx = new Fixture(name);
        using var net = new SongUNet(fx.Config).LoadWeights(fx.StudentPath);
        net.eval();
        Assert.Equal(fx.StudentKeys.Select(k => k["model.".Length..]).OrderBy(k => k, StringComparer.Ordinal),
            net.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        var model = net.AsTrajectoryModel();
        using var noGrad = no_grad();
        using var f = model.RawOutput(fx.X, fx.T, fx.S, fx.Labels);
        using var g = model.Predict(fx.X, fx.T, fx.S, fx.Labels);
        using var jump = model.Jump(fx.X, fx.T, fx.S, fx.Labels);
        AssertRelClose($"{name} F", fx.F, f);
        AssertRelClose($"{name} g", fx.G, g);
        AssertRelClose($"{name} G", fx.Jump, jump);
    }

    [Theory]
    [InlineData("uncond")]
    [InlineData("cond")]
    public void TeacherMatchesOfficialD(string name)
    {
        using var fx = new Fixture(name);
        using var net = new SongUNet(fx.Config.AsTeacher()).LoadWeights(fx.TeacherPath);
        net.eval();
        Assert.Equal(fx.TeacherKeys.OrderBy(k => k, StringComparer.Ordinal), net.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        var teacher = net.AsDenoiser();
        using var noGrad = no_grad();
        using var d = teacher.Denoise(fx.X, fx.T, fx.Labels);
        AssertRelClose($"{name} teacher D", fx.D, d);
    }
    [Fact]
    public void MissingKeyIsNamed()
    {
        using var fx = new Fixture("cond");
        using var net = new SongUNet(fx.Config);
        var dict = StateDict.Read(fx.StudentPath);
        try
        {
            dict.Remove("model.enc.4x4_block0.affine_s.weight", out var removed);
            removed!.Dispose();
            var e = Assert.Throws<StateDictMismatchException>(() => StateDict.Load(net, dict));
            Assert.Equal(new[] { "enc.4x4_block0.affine_s.weight" }, e.MissingKeys);
            Assert.Contains("enc.4x4_block0.affine_s.weight", e.Message);
        }
        finally { StateDict.DisposeAll(dict); }
    }

    [Fact]
    public void MisShapedKeyIsNamed()
    {
        using var fx = new Fixture("uncond");
        // A teacher file into a student: the s-branch keys are missing, all named.
        using (var student = new SongUNet(fx.Config))
        {
            var e = Assert.Throws<StateDictMismatchException>(() => student.LoadWeights(fx.TeacherPath));
            Assert.Contains("map_layer0_s.weight", e.MissingKeys);
            Assert.Contains("dec.8x8_block1.affine_s.bias", e.MissingKeys);
            Assert.Contains("map_layer0_s.weight", e.Message);
        }
        // A network with other channel counts: shapes differ and the message names the key and both shapes.
        using var wide = new SongUNet(fx.Config with { ModelChannels = 32 });
        var m = Assert.Throws<StateDictMismatchException>(() => wide.LoadWeights(fx.StudentPath));
        Assert.Contains(m.MismatchedKeys, k => k.StartsWith("enc.8x8_conv.weight: file [16, 1, 3, 3] vs module [32, 1, 3, 3]", StringComparison.Ordinal));
        Assert.Empty(m.MissingKeys);
    }

    [Fact]
    public void OtherConfigurationsBuildSaveAndLoad()
    {
        // A configuration unlike the fixture's: 16×16×3, three levels, two blocks, attention at 8, 3 classes.
        var config = new SongUNetConfig
        {
            ImgResolution = 16, InChannels = 3, OutChannels = 3, LabelDim = 3, ModelChannels = 8,
            ChannelMult = new[] { 1, 2, 2 }, NumBlocks = 2, AttnResolutions = new[] { 8 }, Dropout = 0,
        };
        string path = Path.Combine(Path.GetTempPath(), $"songunet-{Guid.NewGuid():N}.pth");
        try
        {
            using var a = new SongUNet(config, new Generator(1));
            using var b = new SongUNet(config, new Generator(2));
            Assert.Contains("enc.8x8_block1.qkv.weight", a.state_dict().Keys);
            Assert.Contains("dec.8x8_up.conv0.resample_filter", a.state_dict().Keys);
            TorchSharp.PyBridge.PyBridgeModuleExtensions.save_py(a, path);
            b.LoadWeights(path);
            a.eval(); b.eval();
            using var noGrad = no_grad();
            var gen = new Generator(3);
            using var x = randn(new long[] { 2, 3, 16, 16 }, generator: gen);
            using var c = tensor(new float[] { 0.5f, -1f });
            using var y = tensor(new long[] { 0, 2 });
            using var fa = a.forward(x, c, c, y);
            using var fb = b.forward(x, c, c, y);
            Assert.Equal(new long[] { 2, 3, 16, 16 }, fb.shape);
            TensorAssert.Close(fa, fb, 0, 0);

            // The same weights through safetensors, with the official student's "model." prefix on every key.
            string st = Path.ChangeExtension(path, ".safetensors");
            try
            {
                using var prefixed = new Prefixed(a);
                TorchSharp.PyBridge.PyBridgeModuleExtensions.save_safetensors(prefixed, st);
                using var c2 = new SongUNet(config, new Generator(4)).LoadWeights(st);
                c2.eval();
                using var fc = c2.forward(x, c, c, y);
                TensorAssert.Close(fa, fc, 0, 0);
            }
            finally { File.Delete(st); }
        }
        finally { File.Delete(path); }
    }

    /// <summary>Holds a network as the attribute <c>model</c>, like the official EDMPrecond_CTM wrapper.</summary>
    private sealed class Prefixed : nn.Module
    {
        public Prefixed(SongUNet net) : base("EDMPrecond_CTM") => register_module("model", net);
    }

    [Fact]
    public void Cifar10PresetBuildsTheOfficialSizes()
    {
        using var teacher = new SongUNet(SongUNetConfig.Cifar10DdpmPlusPlus(trajectoryBranch: false));
        using var student = new SongUNet(SongUNetConfig.Cifar10DdpmPlusPlus());
        long nt = teacher.parameters().Sum(p => p.numel()), ns = student.parameters().Sum(p => p.numel());
        _out.WriteLine($"CIFAR-10 DDPM++ teacher {nt:N0} parameters, CTM student {ns:N0}");
        Assert.InRange(nt, 55_650_000L, 55_750_000L); // EDM reports 55.7M for DDPM++ on CIFAR-10
        Assert.True(ns > nt);
    }
}
