using Ctm.Samples;
using Xunit;

namespace Ctm.Core.Tests;

/// <summary>The 2-D pipeline checks a config before training (<see cref="Toy2DPipeline.Problems"/>): its own settings
/// and the library validators' verdicts on the options built from it, each named.</summary>
public sealed class ToyConfigTests
{
    [Fact]
    public void TheDemosConfigsAreValid()
    {
        Assert.Empty(Toy2DPipeline.Problems(new ToyConfig()));
        Assert.Empty(Toy2DPipeline.Problems(ToyConfig.Quick));
        // A self-teacher with the demo's bank setting: the distillation options turn the bank off (no fixed trajectories).
        Assert.Empty(Toy2DPipeline.Problems(new ToyConfig { Gan = false, DsmWeight = 0, TeacherMode = Ctm.Core.Training.TeacherMode.SelfTeacher }));
        Assert.Empty(Toy2DPipeline.Problems(new ToyConfig { Batch = 1, CtmBatch = 256 }));   // the teacher's batch alone may be 1
    }

    public static TheoryData<string, string> BadConfigs => new()
    {
        { "teacher-steps", "ToyConfig.TeacherSteps = 0" },
        { "ctm-batch", "ToyConfig.CtmBatch = 1" },
        { "gan-start", "ToyConfig.GanStartFraction = -0.1" },
        { "hidden", "MlpOptions.Hidden = 0" },
        { "emb-scale", "MlpOptions.EmbeddingScale = NaN" },
        { "sigma-max", "CtmOptions.SigmaMax = 0.001" },
        { "teacher-p-std", "EdmTrainingOptions.PStd = 0" },
        { "grid", "CtmTrainingOptions.GridPoints = 1" },
        { "ctm-lr", "CtmTrainingOptions.LearningRate = 2" },
        { "disc-fourier", "ToyConfig.DiscriminatorFourierFeatures = -1" },
        { "disc-fourier-scale", "ToyConfig.DiscriminatorFourierScale = 0" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void EachBadSettingIsOneProblemNamingIt(string which, string named)
    {
        var c = which switch
        {
            "teacher-steps" => new ToyConfig { TeacherSteps = 0 },
            "ctm-batch" => new ToyConfig { CtmBatch = 1 },
            "gan-start" => new ToyConfig { GanStartFraction = -0.1 },
            "hidden" => new ToyConfig { Hidden = 0 },
            "emb-scale" => new ToyConfig { EmbeddingScale = double.NaN },
            "sigma-max" => new ToyConfig { SigmaMax = 0.001 },
            "teacher-p-std" => new ToyConfig { TeacherPStd = 0 },
            "grid" => new ToyConfig { GridPoints = 1 },
            "disc-fourier" => new ToyConfig { DiscriminatorFourierFeatures = -1 },
            "disc-fourier-scale" => new ToyConfig { DiscriminatorFourierScale = 0 },
            _ => new ToyConfig { CtmLearningRate = 2 },
        };
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;   // the messages format numbers in the current culture
        System.Collections.Generic.List<string> problems;
        try { problems = Toy2DPipeline.Problems(c); }
        finally { System.Globalization.CultureInfo.CurrentCulture = culture; }
        var problem = Assert.Single(problems);
        Assert.StartsWith(named + ":", problem);
        Assert.DoesNotContain("(Parameter", problem);
    }
}
