using System;
using System.IO;
using System.Linq;
using Ctm.Core.Checkpoints;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// The device the device-parameterised tests run on: <c>CTM_DEVICE</c> (cpu by default; cuda or cuda:N on a GPU
/// machine with the CUDA libtorch backend). Asked for CUDA where there is none, those tests are skipped with the reason.
/// </summary>
internal static class TestDevice
{
    public static string Requested => (Environment.GetEnvironmentVariable("CTM_DEVICE") ?? "cpu").Trim().ToLowerInvariant();

    public static bool IsCuda => Requested.StartsWith("cuda", StringComparison.Ordinal);

    /// <summary>Why the device tests cannot run here, or null.</summary>
    public static string? SkipReason =>
        Requested is "" or "cpu" ? null
        : IsCuda ? (cuda.is_available() ? null : $"CTM_DEVICE={Requested} but CUDA is not available here (CPU libtorch backend or no GPU): skipped.")
        : $"CTM_DEVICE={Requested}: unknown device (use cpu or cuda[:N]): skipped.";

    public static Device Device => IsCuda ? new Device(Requested) : CPU;

    /// <summary>Reduced-precision dtypes to check on this device: bfloat16 on CPU; bfloat16 and float16 on CUDA.</summary>
    public static ScalarType[] ReducedTypes => IsCuda ? new[] { ScalarType.BFloat16, ScalarType.Float16 } : new[] { ScalarType.BFloat16 };
}

/// <summary>A fact that runs on <see cref="TestDevice"/>, skipped with the reason when that device is not available.</summary>
public sealed class DeviceFactAttribute : FactAttribute
{
    public DeviceFactAttribute()
    {
        if (TestDevice.SkipReason is { } why) Skip = why;
    }
}

/// <summary>
/// Samplers, the loss, a trainer step, SongUNet forward and loading, and reduced-precision inference on the device of
/// <c>CTM_DEVICE</c> (<c>CTM_DEVICE=cuda ./build.sh test</c> on a GPU machine); on CPU they exercise the same paths.
/// Results are compared with the same computation on CPU.
/// </summary>
[Collection("Torch")]
public sealed class DeviceTests : IDisposable
{
    private static readonly MlpOptions Mlp = new() { Dimension = 2, Hidden = 16, Blocks = 1, EmbeddingChannels = 16 };
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ctm-device-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static SongUNetConfig TinyUNet(bool student = true) => new()
    {
        ImgResolution = 8, InChannels = 1, OutChannels = 1, LabelDim = 10, ModelChannels = 16, ChannelMult = new[] { 1, 2 },
        NumBlocks = 1, AttnResolutions = new[] { 4 }, Dropout = 0, TrajectoryBranch = student,
    };

    private static double MaxRelative(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var x = a.to(CPU).to_type(ScalarType.Float64);
        var y = b.to(CPU).to_type(ScalarType.Float64);
        return ((x - y).abs().max() / (y.abs().max() + 1e-12)).item<double>();
    }

    [DeviceFact]
    public void Samplers_RunOnTheDevice_AndMatchCpu()
    {
        var device = TestDevice.Device;
        using var cpuNet = new TrajectoryMlp(Mlp, generator: new Generator(1));
        using var devNet = new TrajectoryMlp(Mlp, generator: new Generator(1));
        devNet.to(device);
        var cpuModel = new CtmTrajectoryModel(cpuNet);
        var devModel = new CtmTrajectoryModel(devNet);
        Assert.Equal(device.type, devModel.Device.type);
        foreach (var (cpu, dev) in new[]
        {
            (Run(new GammaSampler(cpuModel, new long[] { 2 })), Run(new GammaSampler(devModel, new long[] { 2 }))),
        })
        {
            using (cpu) using (dev)
            {
                Assert.Equal(device.type, dev.device_type);
                Assert.True(MaxRelative(dev, cpu) < 1e-4, $"γ-sampling on {device} differs from CPU by {MaxRelative(dev, cpu)}");
            }
        }
        using var hc = new DiffusionSampler(cpuModel, new long[] { 2 }).Sample(16, 4, generator: new Generator(3));
        using var hd = new DiffusionSampler(devModel, new long[] { 2 }).Sample(16, 4, generator: new Generator(3));
        Assert.Equal(device.type, hd.device_type);
        Assert.True(MaxRelative(hd, hc) < 1e-4, $"Heun on {device} differs from CPU by {MaxRelative(hd, hc)}");

        static Tensor Run(GammaSampler s) => s.Sample(16, 0.5, 3, generator: new Generator(2));
    }

    [DeviceFact]
    public void LossAndTrainerStep_RunOnTheDevice()
    {
        var device = TestDevice.Device;
        using var student = new TrajectoryMlp(Mlp, generator: new Generator(1));
        using var target = new TrajectoryMlp(Mlp, generator: new Generator(1));
        using var ema = new TrajectoryMlp(Mlp, generator: new Generator(1));
        using var teacher = new DenoiserMlp(Mlp, generator: new Generator(2));
        foreach (var m in new nn.Module[] { student, target, ema, teacher }) m.to(device);
        var options = new CtmTrainingOptions { GridPoints = 10, MaxTeacherSteps = 3, Seed = 5 };
        var (s, t) = (new CtmTrajectoryModel(student), new CtmTrajectoryModel(target));
        var loss = new CtmLoss(s, t, new EdmDenoiser(teacher), options, lastLayerWeight: student.OutputLayer.weight);
        using (var gen = new Generator(4))
        using (var x0 = (randn(new long[] { 16, 2 }, generator: gen) * 0.5).to(device))
        using (var result = loss.GeneratorLoss(x0, null, gen, withGan: false))
        {
            Assert.Equal(device.type, result.Total.device_type);
            Assert.True(double.IsFinite(result.Total.to(CPU).item<float>()));
            result.Total.backward();
            Assert.All(student.parameters(), p => Assert.Equal(device.type, p.grad!.device_type));
        }
        using var before = student.OutputLayer.weight!.detach().to(CPU).clone();
        using var trainer = new CtmTrainer(s, t, new CtmTrajectoryModel(ema), loss, options);
        var b = trainer.TrainStep(g => ((randn(new long[] { 16, 2 }, generator: g) * 0.5).to(device), null));
        Assert.True(b.Ctm is double c && double.IsFinite(c));
        using var after = student.OutputLayer.weight!.detach().to(CPU);
        Assert.False(after.allclose(before, 0, 0), "the trainer step did not change the student");
    }

    [DeviceFact]
    public void SongUNet_ForwardAndLoad_OnTheDevice()
    {
        var device = TestDevice.Device;
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "tiny.json");
        using (var net = new SongUNet(TinyUNet(), new Generator(1))) TrainedModel.Save(path, net, new long[] { 1, 8, 8 });
        using var cpu = TrainedModel.Load(path);
        using var dev = TrainedModel.Load(path, device);
        Assert.Equal(device.type, dev.Model.Device.type);
        using var gen = new Generator(3);
        using var x = randn(new long[] { 4, 1, 8, 8 }, generator: gen);
        using var labels = tensor(new long[] { 0, 3, 7, 9 });
        var cm = cpu.TrajectoryModel!;
        var dm = dev.TrajectoryModel!;
        using var gc = cm.Jump(x, 5.0, 0.5, labels);
        using var gd = dm.Jump(x.to(device), 5.0, 0.5, labels.to(device));
        Assert.Equal(device.type, gd.device_type);
        Assert.True(MaxRelative(gd, gc) < 1e-4, $"SongUNet jump on {device} differs from CPU by {MaxRelative(gd, gc)}");
    }

    [DeviceFact]
    public void ReducedPrecision_NetworkRunsBehindFloat32Casts_AndStaysClose()
    {
        var device = TestDevice.Device;
        foreach (var dtype in TestDevice.ReducedTypes)
        {
            using var full = new SongUNet(TinyUNet(), new Generator(1));
            using var reduced = new SongUNet(TinyUNet(), new Generator(1));
            full.to(device); full.eval();
            reduced.to(device); reduced.to(dtype); reduced.eval();
            var fm = full.AsTrajectoryModel();
            var rm = reduced.AsTrajectoryModel();
            Assert.Equal(ScalarType.Float32, rm.DType);   // the model keeps float32 inputs and outputs
            using var labels = tensor(new long[] { 1, 2, 3, 4, 5, 6 }).to(device);
            using var a = new GammaSampler(fm, new long[] { 1, 8, 8 }).Sample(6, 0.0, 2, labels, new Generator(9));
            using var b = new GammaSampler(rm, new long[] { 1, 8, 8 }).Sample(6, 0.0, 2, labels, new Generator(9));
            Assert.Equal(ScalarType.Float32, b.dtype);
            Assert.Equal(device.type, b.device_type);
            double err = MaxRelative(b, a);
            Assert.True(err < 0.05, $"{dtype} samples differ from float32 by {err:G3} (relative to the largest value)");
            Assert.True(err > 0, $"{dtype} gave bit-identical samples: the network did not run in {dtype}");
            // Training-side calls work too: the denoiser with per-sample times, gradients flowing to the input.
            using var xs = randn(new long[] { 6, 1, 8, 8 }).to(device).requires_grad_(true);
            using var sig = tensor(new float[] { 0.1f, 0.5f, 1, 2, 10, 80 }).to(device);
            using var d = rm.Denoise(xs, sig, labels);
            d.sum().backward();
            Assert.Equal(ScalarType.Float32, xs.grad!.dtype);
        }
    }
}
