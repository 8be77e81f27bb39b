using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text.Json;
using Ctm.Core.Checkpoints;
using Ctm.Core.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>A trained model as one file set (JSON + safetensors) that PyTorch can read, and Load giving a ready sampler.</summary>
[Collection("Torch")]
public sealed class TrainedModelTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ctm-model-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Theory]
    [InlineData("uncond")]
    [InlineData("cond")]
    public void OfficialSongUNet_RoundTrips_WithOfficialKeys_AndReproducesTheOfficialJump(string name)
    {
        using var fx = new OfficialFixtureTests.Fixture(name);
        string path = Path.Combine(_dir, name, "ctm.json");
        using (var net = new SongUNet(fx.Config).LoadWeights(fx.StudentPath))
            TrainedModel.Save(path, net, new long[] { fx.Shape[1], fx.Shape[2], fx.Shape[3] }, new CtmOptions { Rho = 7 });

        // The weights file is a standard safetensors file with the official key names (the checkpoint's, minus "model.").
        var header = SafetensorsHeader(Path.ChangeExtension(path, ".safetensors"));
        Assert.Equal(fx.StudentKeys.Select(k => k["model.".Length..]).OrderBy(k => k, StringComparer.Ordinal),
            header.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.All(header.Values, v => Assert.Equal("F32", v.Dtype));

        // The JSON names SongUNet's settings as the official constructor does.
        using (var doc = JsonDocument.Parse(File.ReadAllText(path)))
        {
            var config = doc.RootElement.GetProperty("config");
            Assert.Equal(fx.Config.ModelChannels, config.GetProperty("model_channels").GetInt32());
            Assert.Equal(fx.Config.ImgResolution, config.GetProperty("img_resolution").GetInt32());
            Assert.Equal("SongUNet", doc.RootElement.GetProperty("network").GetString());
        }

        using var loaded = TrainedModel.Load(path);
        var model = loaded.TrajectoryModel!;
        using var noGrad = no_grad();
        using var jump = model.Jump(fx.X, fx.T, fx.S, fx.Labels);
        double scale = fx.Jump.abs().max().item<float>();
        double rel = (fx.Jump - jump).abs().max().item<float>() / scale;
        Assert.True(rel <= 1e-4, $"{name}: G after save/load differs from the official G by {rel:E2} (relative)");
        var sampler = loaded.CreateGammaSampler();
        using var labels = fx.Labels is null ? null : zeros(new long[] { 3 }, dtype: ScalarType.Int64);
        using var g = new Generator(1);
        using var x = sampler.Sample(3, 0.0, 2, labels, g);
        Assert.Equal(new[] { 3L }.Concat(loaded.SampleShape), x.shape);
    }

    [Fact]
    public void OfficialAdmUNet_StudentAndTeacher_RoundTrip_WithOfficialKeysAndNames_AndTheirTimeInput()
    {
        using var fx = new AdmFixtureTests.Fixture();
        string studentPath = Path.Combine(_dir, "adm", "ctm.json"), teacherPath = Path.Combine(_dir, "adm", "teacher.json");
        var shape = new long[] { fx.Shape[1], fx.Shape[2], fx.Shape[3] };
        using (var net = new AdmUNet(fx.Config).LoadWeights(fx.StudentPath)) TrainedModel.Save(studentPath, net, shape);
        using (var net = new AdmUNet(fx.Config.AsTeacher()).LoadWeights(fx.TeacherPath)) TrainedModel.Save(teacherPath, net, shape);

        // Official UNetModel key names in the weights, official constructor argument names in the JSON.
        Assert.Equal(fx.StudentKeys.OrderBy(k => k, StringComparer.Ordinal),
            SafetensorsHeader(Path.ChangeExtension(studentPath, ".safetensors")).Keys.OrderBy(k => k, StringComparer.Ordinal));
        using (var doc = JsonDocument.Parse(File.ReadAllText(studentPath)))
        {
            var config = doc.RootElement.GetProperty("config");
            var official = fx.Root.GetProperty("config");
            foreach (var key in new[] { "image_size", "model_channels", "num_res_blocks", "num_classes", "num_head_channels" })
                Assert.Equal(official.GetProperty(key).GetInt32(), config.GetProperty(key).GetInt32());
            Assert.Equal("AdmUNet", doc.RootElement.GetProperty("network").GetString());
        }

        // Loaded, the student is a CTM and the teacher a denoiser, both with ADM's 250·ln σ time input: the official outputs.
        using var student = TrainedModel.Load(studentPath);
        using var teacher = TrainedModel.Load(teacherPath);
        var loaded = ((AdmUNet)student.Network).Config;
        Assert.Equal(fx.Config.AttentionDownsampleRates, loaded.AttentionDownsampleRates);
        Assert.Equal(fx.Config.ChannelMult, loaded.ChannelMult);
        Assert.Equal(fx.Config with { AttentionDownsampleRates = loaded.AttentionDownsampleRates, ChannelMult = loaded.ChannelMult }, loaded);
        Assert.Null(teacher.TrajectoryModel);
        using var noGrad = no_grad();
        using var jump = student.TrajectoryModel!.Jump(fx.X, fx.T, fx.S, fx.Labels);
        using var d = teacher.Model.Denoise(fx.X, fx.T, fx.Labels);
        TensorAssert.RelativeClose("ADM student G after save/load", fx.Jump, jump, 1e-4, _ => { });
        TensorAssert.RelativeClose("ADM teacher D after save/load", fx.D, d, 1e-4, _ => { });
    }

    [Fact]
    public void MlpStudentAndTeacher_RoundTripExactly_WithTheirSchedule()
    {
        var o = new MlpOptions { Dimension = 3, Hidden = 16, Blocks = 2, EmbeddingChannels = 8, EmbeddingScale = 10 };
        var schedule = new CtmOptions { SigmaMax = 40, SigmaData = 0.7, Rho = 5 };
        using var g = new Generator(2);
        using var student = new TrajectoryMlp(o, generator: g);
        using var teacher = new DenoiserMlp(o, generator: g);
        TrainedModel.Save(Path.Combine(_dir, "student.json"), student, new long[] { 3 }, schedule);
        TrainedModel.Save(Path.Combine(_dir, "teacher.json"), teacher, new long[] { 3 }, schedule);

        using var s = TrainedModel.Load(Path.Combine(_dir, "student.json"));
        using var t = TrainedModel.Load(Path.Combine(_dir, "teacher.json"));
        Assert.Equal(5, s.Model.Rho);
        Assert.Equal(0.7, t.Model.SigmaData);
        Assert.Null(t.TrajectoryModel);
        Assert.Throws<InvalidOperationException>(() => t.CreateGammaSampler());

        using var x = randn(new long[] { 4, 3 }, generator: g);
        using var expected = new Models.CtmTrajectoryModel(student, schedule).Jump(x, 10.0, 0.5);
        using var actual = s.TrajectoryModel!.Jump(x, 10.0, 0.5);
        TensorAssert.Close(expected, actual, 0, 0);
        using var d1 = new Models.EdmDenoiser(teacher, schedule).Denoise(x, 2.0);
        using var d2 = t.Model.Denoise(x, 2.0);
        TensorAssert.Close(d1, d2, 0, 0);
        using var ode = t.CreateDiffusionSampler().Sample(5, 3, generator: g);
        Assert.Equal(new long[] { 5, 3 }, ode.shape);
        Assert.Equal(new[] { "student.json", "student.safetensors", "teacher.json", "teacher.safetensors" },
            Directory.GetFiles(_dir).Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal));
    }

    [Fact]
    public void BadFiles_AreClearErrors()
    {
        Assert.Throws<FileNotFoundException>(() => TrainedModel.Load(Path.Combine(_dir, "none.json")));
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "bad.json"), "{\"format\": \"something-else\"}");
        Assert.Throws<InvalidDataException>(() => TrainedModel.Load(Path.Combine(_dir, "bad.json")));
        using var lin = nn.Linear(2, 2);
        Assert.Equal("network", Assert.Throws<ArgumentException>(() => TrainedModel.Save(Path.Combine(_dir, "x.json"), lin, new long[] { 2 })).ParamName);
    }

    /// <summary>Reads a safetensors header by the format's specification (8-byte little-endian length, JSON, contiguous data).</summary>
    private static System.Collections.Generic.Dictionary<string, (string Dtype, long[] Shape)> SafetensorsHeader(string file)
    {
        var bytes = File.ReadAllBytes(file);
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var result = new System.Collections.Generic.Dictionary<string, (string, long[])>();
        long end = 0;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            string dtype = p.Value.GetProperty("dtype").GetString()!;
            Assert.Equal(shape.Aggregate(1L, (a, b) => a * b) * (dtype == "F32" ? 4 : 8), offsets[1] - offsets[0]);
            end = Math.Max(end, offsets[1]);
            result[p.Name] = (dtype, shape);
        }
        Assert.Equal(bytes.Length, 8 + n + end);   // nothing after the last tensor, nothing missing
        return result;
    }
}
