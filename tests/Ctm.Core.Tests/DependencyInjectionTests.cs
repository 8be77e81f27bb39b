using System;
using System.Collections.Generic;
using Ctm.Core.DependencyInjection;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>services.AddCtm(...): options from configuration, validated at start; every registered type builds.</summary>
[Collection("Torch")]
public sealed class DependencyInjectionTests
{
    private static readonly MlpOptions Net = new() { Dimension = 2, Hidden = 16, Blocks = 1, EmbeddingChannels = 16 };

    private static IConfiguration Config(params (string Key, string Value)[] overrides)
    {
        var values = new Dictionary<string, string?>
        {
            ["Ctm:SigmaMax"] = "40",
            ["Ctm:Rho"] = "5",
            ["Ctm:Sampling:SampleShape:0"] = "2",
            ["Ctm:Training:LearningRate"] = "0.001",
            ["Ctm:Training:EvalEmaRate"] = "0.95",
            ["Ctm:Teacher:EmaRate"] = "0.9",
        };
        foreach (var (k, v) in overrides) values[k] = v;
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    private static ServiceProvider Build(IConfiguration config)
    {
        var services = new ServiceCollection()
            .AddCtm(config.GetSection("Ctm"))
            .AddCtmModel(_ => new TrajectoryMlp(Net, generator: new Generator(1)));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public void OptionsFromConfiguration_ResolveASamplerAndSample()
    {
        using var sp = Build(Config());
        sp.GetRequiredService<IStartupValidator>().Validate();

        var sampler = sp.GetRequiredService<IGammaSampler>();
        Assert.Equal(40, sampler.Model.SigmaMax);    // the model got the configured schedule …
        Assert.Equal(5, sampler.Model.Rho);
        Assert.Equal(new long[] { 2 }, sampler.SampleShape);
        using var g = new Generator(3);
        using var x = sampler.Sample(16, 0.0, 2, generator: g);
        Assert.Equal(new long[] { 16, 2 }, x.shape);
        Assert.True(x.isfinite().all().item<bool>());

        using var ode = sp.GetRequiredService<DiffusionSampler>().Sample(8, 3, generator: g);
        Assert.Equal(new long[] { 8, 2 }, ode.shape);
        Assert.Same(sp.GetRequiredService<ITrajectoryModel>(), sp.GetRequiredService<IDenoiser>());
        Assert.Same(sampler, sp.GetRequiredService<GammaSampler>());
        Assert.Equal(0.001, sp.GetRequiredService<CtmTrainerFactory>().Options.LearningRate);
        Assert.Equal(0.9, sp.GetRequiredService<EdmTeacherTrainerFactory>().Options.EmaRate);
    }

    [Fact]
    public void TheSamplerVariants_Resolve_AndReadTheModelsSchedule()
    {
        using var sp = Build(Config());
        sp.GetRequiredService<IStartupValidator>().Validate();
        var model = sp.GetRequiredService<ITrajectoryModel>();
        using var g = new Generator(4);

        var jumps = sp.GetRequiredService<JumpScheduleSampler>();
        var schedule = JumpSchedule.GridIndices(model, new[] { 0, 5, 9 }, 10);   // the configured σ_max 40 and ρ 5
        Assert.Equal(Schedules.KarrasSchedule.Sigmas(10, model.SigmaMin, 40, 5)[5], schedule.To[0], 12);
        using var x = jumps.Sample(8, schedule, generator: g);
        Assert.Equal(new long[] { 8, 2 }, x.shape);

        var ancestral = sp.GetRequiredService<AncestralEulerSampler>();
        Assert.Same(model, ancestral.Denoiser);
        using var y = ancestral.Sample(8, 4, generator: g);
        Assert.Equal(new long[] { 8, 2 }, y.shape);
        Assert.True(y.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData("Ctm:SigmaMin", "0", "SigmaMin")]
    [InlineData("Ctm:Rho", "-1", "Rho")]
    [InlineData("Ctm:Sampling:SampleShape:0", "0", "SampleShape")]
    [InlineData("Ctm:Training:TargetEmaRate", "1", "TargetEmaRate")]
    [InlineData("Ctm:Teacher:PStd", "0", "PStd")]
    public void InvalidConfiguration_FailsAtStart_NamingTheOption(string key, string value, string option)
    {
        using var sp = Build(Config((key, value)));
        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(option, e.Message);
    }

    [Fact]
    public void MissingSampleShape_FailsAtStart()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Ctm:Rho"] = "7" }).Build();
        using var sp = Build(config);
        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("SampleShape", e.Message);
    }

    [Fact]
    public void TheContainer_BuildsThePublicTypesDirectly()
    {
        // The repro: AddSingleton<ITrajectoryModel, CtmTrajectoryModel>() used to fail with "constructors are ambiguous".
        var services = new ServiceCollection();
        services.AddOptions<CtmOptions>().Configure(o => o.SigmaMax = 20);
        services.AddOptions<SamplerOptions>().Configure(o => o.SampleShape = new long[] { 2 });
        services.AddSingleton<nn.Module<Tensor, Tensor, Tensor, Tensor>>(_ => new TrajectoryMlp(Net));
        services.AddSingleton<nn.Module<Tensor, Tensor, Tensor>>(_ => new DenoiserMlp(Net));
        services.AddSingleton<ITrajectoryModel, CtmTrajectoryModel>();
        services.AddSingleton<EdmDenoiser>();
        services.AddSingleton<IGammaSampler, GammaSampler>();
        services.AddSingleton<CtmTrainerFactory>();
        using var sp = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        Assert.Equal(20, sp.GetRequiredService<ITrajectoryModel>().SigmaMax);
        Assert.Equal(20, sp.GetRequiredService<EdmDenoiser>().SigmaMax);
        using var x = sp.GetRequiredService<IGammaSampler>().Sample(4, 0.0, 1);
        Assert.Equal(new long[] { 4, 2 }, x.shape);
    }

    [Fact]
    public void TrainerFactories_BuildWorkingTrainers()
    {
        using var sp = Build(Config(("Ctm:Training:GridPoints", "8"), ("Ctm:Training:MaxTeacherSteps", "3"), ("Ctm:Training:TeacherMode", "SelfTeacher"),
            ("Ctm:Training:AdaptiveWeights", "false")));
        sp.GetRequiredService<IStartupValidator>().Validate();
        var options = new CtmOptions { SigmaMax = 40, Rho = 5 };
        using var s = new TrajectoryMlp(Net); using var t = new TrajectoryMlp(Net); using var e = new TrajectoryMlp(Net);
        var (sm, tm) = (new CtmTrajectoryModel(s, options), new CtmTrajectoryModel(t, options));
        var factory = sp.GetRequiredService<CtmTrainerFactory>();
        using var trainer = factory.Create(sm, tm, new CtmTrajectoryModel(e, options), factory.CreateLoss(sm, tm, teacher: null));
        using var data = Analytic.GaussianMixtureModel.Ring(4, 1.0, 0.1);
        var b = trainer.TrainStep(g => (data.SampleData(16, g), null));
        Assert.True(b.Ctm is double c && double.IsFinite(c));

        using var raw = new DenoiserMlp(Net); using var ema = new DenoiserMlp(Net);
        using var teacher = sp.GetRequiredService<EdmTeacherTrainerFactory>().Create(new EdmDenoiser(raw), new EdmDenoiser(ema));
        Assert.True(double.IsFinite(teacher.TrainStep(g => (data.SampleData(16, g), null))));
    }
}
