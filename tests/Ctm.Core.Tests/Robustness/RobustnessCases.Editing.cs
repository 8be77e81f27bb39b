using System;
using System.Collections.Generic;
using Ctm.Core.Analytic;
using Ctm.Core.Checkpoints;
using Ctm.Core.Editing;
using Ctm.Core.Networks;
using TorchSharp;
using static Ctm.Core.Tests.Robustness.RobustnessCase;
using static TorchSharp.torch;

namespace Ctm.Core.Tests.Robustness;

internal static partial class RobustnessCases
{
    /// <summary>Editing, analytic models, network configurations and the trained-model writer.</summary>
    private static IEnumerable<RobustnessCase> EditingAndModels()
    {
        void Inpaint(Func<Tensor> images, Func<Tensor> mask, IReadOnlyList<double>? grid = null, Generator? g = null, double gamma = 0.5) => WithModel(m =>
        {
            using var x = images(); using var k = mask();
            Inpainting.Inpaint(m, x, k, grid ?? Grid, gamma, g).Dispose();
        });
        yield return Arg<ArgumentException>("Inpainting.Inpaint: mask of another shape", "mask", () => Inpaint(() => zeros(3, 2), () => ones(3, 5)));
        yield return Arg<ArgumentException>("Inpainting.Inpaint: mask with 0.5", "mask", () => Inpaint(() => zeros(3, 2), () => full(3, 2, 0.5)));
        yield return Arg<ArgumentNullException>("Inpainting.Inpaint: grid null", "timeGrid", () => WithModel(m => { using var x = zeros(3, 2); using var k = ones(3, 2); Inpainting.Inpaint(m, x, k, null!).Dispose(); }));
        yield return Arg<ArgumentException>("Inpainting.Inpaint: disposed generator (#3)", "generator", () => Inpaint(() => zeros(3, 2), () => ones(3, 2), g: DisposedGenerator()));
        yield return Arg<ArgumentException>("Inpainting.Inpaint: images NaN", "images", () => Inpaint(() => full(3, 2, double.NaN), () => ones(3, 2)));
        yield return Arg<ArgumentOutOfRangeException>("Inpainting.Inpaint: gamma -1", "gamma", () => Inpaint(() => zeros(3, 2), () => ones(3, 2), gamma: -1));
        yield return Arg<ArgumentOutOfRangeException>("SuperResolution.Downsample: factor 1", "factor", () => { using var x = zeros(1, 1, 4, 4); SuperResolution.Downsample(x, 1).Dispose(); });
        yield return Arg<ArgumentException>("SuperResolution.Downsample: 5×5 by 2", "images", () => { using var x = zeros(1, 1, 5, 5); SuperResolution.Downsample(x, 2).Dispose(); });
        yield return Arg<ArgumentException>("Colorization.Luminance: 2 weights for 3 channels", "weights", () => { using var x = zeros(1, 3, 2, 2); Colorization.Luminance(x, new[] { 0.5, 0.5 }).Dispose(); });
        yield return Arg<ArgumentOutOfRangeException>("GaussianModel.ctor: std 0", "std", () => new GaussianModel(new[] { 0.0 }, 0).Dispose());
        yield return Arg<ArgumentException>("GaussianModel.ctor: mean NaN", "mean", () => new GaussianModel(new[] { double.NaN }, 1).Dispose());
        yield return Arg<ArgumentOutOfRangeException>("GaussianModel.SampleData: n 0", "n", () => { using var m = new GaussianModel(new[] { 0.0 }, 1); using var g = new Generator(1); m.SampleData(0, g).Dispose(); });
        yield return Arg<ArgumentException>("GaussianModel.SampleData: disposed generator (#3)", "generator", () => { using var m = new GaussianModel(new[] { 0.0 }, 1); m.SampleData(2, DisposedGenerator()).Dispose(); });
        yield return Arg<ArgumentException>("GaussianMixtureModel.SampleData: disposed generator (#3)", "generator", () => { using var m = GaussianMixtureModel.Ring(); m.SampleData(2, DisposedGenerator()).Dispose(); });
        yield return Arg<ArgumentException>("MlpOptions.Validate: Hidden 0", "options", () => _ = new TrajectoryMlp(new MlpOptions { Hidden = 0 }));
        yield return Arg<ArgumentException>("SongUNetConfig.Validate: ModelChannels 2", "ModelChannels", () => (SongUNetConfig.Cifar10DdpmPlusPlus() with { ModelChannels = 2 }).Validate());
        yield return Arg<ArgumentException>("TrainedModel.Save: path \"\"", "path", () => { using var n = new TrajectoryMlp(RobustnessFixtures.Net()); TrainedModel.Save("", n, new long[] { 2 }); });
        yield return Arg<ArgumentException>("TrainedModel.Save: sampleShape [0]", "sampleShape", () => { using var n = new TrajectoryMlp(RobustnessFixtures.Net()); TrainedModel.Save(RobustnessFixtures.PathOf("s.json"), n, new long[] { 0 }); });
        yield return Arg<ArgumentException>("TrainedModel.Save: a network it cannot describe", "network", () => { using var n = new MlpDiscriminator(2, 8, 2); TrainedModel.Save(RobustnessFixtures.PathOf("d.json"), n, new long[] { 2 }); });
    }
}
