using System;
using System.IO;
using Ctm.Core.Checkpoints;
using Ctm.Core.Networks;
using Ctm.Samples.Mnist;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// The MNIST sample's saved CTM (<c>--save-ctm FILE</c>: a <see cref="TrainedModel"/> file set) loads back, in the editing
/// sample and the mnist-samplers benchmark, as the same class-conditional network with its architecture.
/// </summary>
[Collection("Torch")]
public sealed class MnistSavedCtmTests
{
    [Fact]
    public void SavedCtmLoadsBackWithItsArchitecture()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ctm-{Guid.NewGuid():N}.json");
        string weights = Path.ChangeExtension(path, ".safetensors");
        try
        {
            var config = new MnistConfig { AttnResolutions = new[] { 8 } }.Network(student: true);
            using var a = new SongUNet(config, new Generator(1));
            a.eval();
            TrainedModel.Save(path, a, new long[] { 1, 16, 16 });
            using var b = TrainedModel.Load(path);
            var loaded = Assert.IsType<SongUNet>(b.Network);
            Assert.Equal(config.AttnResolutions, loaded.Config.AttnResolutions);
            Assert.Equal(config with { ChannelMult = loaded.Config.ChannelMult, AttnResolutions = loaded.Config.AttnResolutions, ResampleFilter = loaded.Config.ResampleFilter }, loaded.Config);
            Assert.Equal(10, b.Model.NumClasses);
            using var noGrad = no_grad();
            using var x = randn(new long[] { 2, 1, 16, 16 }, generator: new Generator(2));
            using var y = tensor(new long[] { 3, 7 });
            using var t = tensor(new float[] { 1.0f, 80f });
            using var s = tensor(new float[] { 0.5f, 0.002f });
            using var fa = a.AsTrajectoryModel().Jump(x, t, s, y);
            using var fb = b.TrajectoryModel!.Jump(x, t, s, y);
            TensorAssert.Close(fa, fb, 0, 0);
            File.Delete(weights);
            Assert.Throws<FileNotFoundException>(() => TrainedModel.Load(path));
        }
        finally
        {
            File.Delete(path);
            File.Delete(weights);
        }
    }
}
