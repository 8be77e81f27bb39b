using System;
using System.IO;
using Ctm.Core.Networks;
using Ctm.Samples.Mnist;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>The MNIST sample's saved CTM (weights + architecture JSON) loads back into the same network.</summary>
[Collection("Torch")]
public sealed class CtmFileTests
{
    [Fact]
    public void SavedCtmLoadsBackWithItsArchitecture()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ctm-{Guid.NewGuid():N}.dat");
        try
        {
            var config = new MnistConfig { AttnResolutions = new[] { 8 } }.Network(student: true);
            using var a = new SongUNet(config, new Generator(1));
            a.eval();
            CtmFile.Save(a, path);
            using var b = CtmFile.Load(path);
            Assert.Equal(config.AttnResolutions, b.Config.AttnResolutions);
            Assert.Equal(config with { ChannelMult = b.Config.ChannelMult, AttnResolutions = b.Config.AttnResolutions, ResampleFilter = b.Config.ResampleFilter }, b.Config);
            using var noGrad = no_grad();
            using var x = randn(new long[] { 2, 1, 16, 16 }, generator: new Generator(2));
            using var y = tensor(new long[] { 3, 7 });
            using var t = tensor(new float[] { 1.0f, 80f });
            using var s = tensor(new float[] { 0.5f, 0.002f });
            using var fa = a.AsTrajectoryModel().Jump(x, t, s, y);
            using var fb = b.AsTrajectoryModel().Jump(x, t, s, y);
            TensorAssert.Close(fa, fb, 0, 0);
            File.Delete(path + ".json");
            Assert.Throws<FileNotFoundException>(() => CtmFile.Load(path));
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".json");
        }
    }
}
