using System;
using System.IO;
using System.Linq;
using Ctm.Samples.Mnist;
using Xunit;
using Xunit.Abstractions;

namespace Ctm.Core.Tests;

/// <summary>The MNIST sample's --quick configuration end to end (classifier, teacher, CTM with GAN, FD, grids).</summary>
[Collection("Torch")]
public sealed class MnistQuickRunTests
{
    private readonly ITestOutputHelper _out;
    public MnistQuickRunTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void QuickRunEndsWithFiniteFdNumbersAndGrids()
    {
        string outDir = Path.Combine(Path.GetTempPath(), $"mnist-quick-{Guid.NewGuid():N}");
        try
        {
            var config = MnistConfig.Quick with { CacheDir = Path.Combine(outDir, "cache"), EvalEvery = 15 };
            using var pipeline = new MnistPipeline(config, DataAndImagingTests.NpmMnistDir(), _out.WriteLine);
            pipeline.TrainClassifier();
            Assert.True(pipeline.ClassifierAccuracy > 0.3, $"classifier accuracy {pipeline.ClassifierAccuracy:P1} after one epoch");
            using var teacher = pipeline.TrainTeacher(out _);
            using var ctm = pipeline.TrainCtm(teacher, out _);
            var rows = pipeline.Evaluate(teacher, ctm, outDir);
            Assert.Equal(new[] { 35, 1, 2 }, rows.Select(r => r.Nfe));
            Assert.All(rows, r => Assert.True(double.IsFinite(r.Fd) && r.Fd > 0, $"{r.Sampler} NFE {r.Nfe}: FD {r.Fd}"));
            Assert.All(rows, r => Assert.True(new FileInfo(r.Grid).Length > 100, r.Grid));
            Assert.True(double.IsFinite(pipeline.DataFd) && pipeline.DataFd < rows.Min(r => r.Fd), "real digits should be closer to real digits than a 30-step model");

            // A second run with the same settings reuses the cached classifier and teacher: same weights, same FD.
            using var again = new MnistPipeline(config, DataAndImagingTests.NpmMnistDir(), _out.WriteLine);
            again.TrainClassifier();
            Assert.Equal(pipeline.ClassifierAccuracy, again.ClassifierAccuracy);
            using var cachedTeacher = again.TrainTeacher(out double seconds);
            Assert.Equal(0, seconds);
            var teacherRow = again.EvaluateTeacher(cachedTeacher, outDir);
            Assert.Equal(rows[0].Fd, teacherRow.Fd, 6);
        }
        finally { if (Directory.Exists(outDir)) Directory.Delete(outDir, true); }
    }

    [Fact]
    public void ClassifierWeightsComeFromTheGivenGenerator()
    {
        static float[] Weights(ulong seed)
        {
            using var g = new TorchSharp.torch.Generator(seed);
            using var c = new DigitClassifier(16, g);
            return c.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        }
        Assert.Equal(Weights(3), Weights(3));
        Assert.NotEqual(Weights(3), Weights(4));
    }
}
