using System;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>The teacher trainer's learning-rate decay: applied to Adam and RAdam alike, off by default (EDM), validated.</summary>
[Collection("Torch")]
public sealed class EdmTeacherDecayTests
{
    // ‖θ after step 2 − θ after step 1‖ / ‖θ after step 1 − θ before‖ for a run with the given decay.
    private static double SecondStepRatio(bool radam, LearningRateDecay decay)
    {
        using var scope = NewDisposeScope();
        var net = new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 1, EmbeddingChannels = 16 };
        using var data = GaussianMixtureModel.Ring(4, 1.0, 0.1);
        using var g0 = new Generator(5);
        using var g1 = new Generator(6);
        using var raw = new DenoiserMlp(net, generator: g0);
        using var ema = new DenoiserMlp(net, generator: g1);
        // Linear from full rate at step 0 to 10⁻⁴ of it from step 1 on.
        using var trainer = new EdmTeacherTrainer(new EdmDenoiser(raw), new EdmDenoiser(ema), new EdmTrainingOptions
        {
            Seed = 3, UseRAdam = radam, Decay = decay, DecayStartStep = 0, DecayEndStep = 1, DecayFinalFactor = 1e-4,
        });
        Tensor Flat() => cat(raw.parameters().Select(p => p.detach().flatten()).ToArray()).clone();
        var theta0 = Flat();
        trainer.TrainStep(g => (data.SampleData(64, g), null));
        var theta1 = Flat();
        trainer.TrainStep(g => (data.SampleData(64, g), null));
        var theta2 = Flat();
        return (theta2 - theta1).norm().item<float>() / (theta1 - theta0).norm().item<float>();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheDecayScalesTheUpdates(bool radam)
    {
        Assert.InRange(SecondStepRatio(radam, LearningRateDecay.None), 0.1, 10);   // constant rate: steps of one size
        Assert.InRange(SecondStepRatio(radam, LearningRateDecay.Linear), 0, 1e-2);  // the second step at 10⁻⁴ of the rate
    }

    [Fact]
    public void ADecayWithoutAnEndIsNamed()
    {
        Assert.Equal(LearningRateDecay.None, new EdmTrainingOptions().Decay);
        var o = new EdmTrainingOptions { Decay = LearningRateDecay.Cosine, DecayStartStep = 100, DecayEndStep = 100 };
        Assert.Contains("DecayEndStep", Assert.Throws<ArgumentException>(() => o.Validate()).Message);
        o.DecayEndStep = 200;
        o.DecayFinalFactor = 0;
        Assert.Contains("DecayFinalFactor", Assert.Throws<ArgumentException>(() => o.Validate()).Message);
        o.DecayFinalFactor = 0.01;
        o.DecayStartStep = -1;
        Assert.Contains("DecayStartStep", Assert.Throws<ArgumentException>(() => o.Validate()).Message);
        Assert.Contains("Decay = 7", Assert.Throws<ArgumentException>(() => new EdmTrainingOptions { Decay = (LearningRateDecay)7 }.Validate()).Message);
    }
}
