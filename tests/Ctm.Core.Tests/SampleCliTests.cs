using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace Ctm.Core.Tests;

/// <summary>
/// The samples' and benchmarks' command lines (System.CommandLine): <c>--help</c> lists the options with their
/// defaults, an unknown flag or a bad value is an error that names it, and nothing runs in either case.
/// </summary>
public sealed class SampleCliTests
{
    private static (int Exit, string Output) Run(string project, params string[] args)
    {
        string root = DocSnippetTests.RepoRoot();
        // The hosts are built next to the tests, with the same configuration and runtime folder layout.
        string layout = Path.GetRelativePath(Path.Combine(root, "tests", "Ctm.Core.Tests"), AppContext.BaseDirectory);
        string folder = project == "Ctm.Benchmarks" ? "benchmarks" : "samples";
        string dll = Path.Combine(root, folder, project, layout, project + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is not built; build the solution first (./build.sh test does).");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);   // a host that parsed the value as valid runs for minutes: leave nothing behind
            Assert.Fail($"{project} {string.Join(" ", args)} did not exit within two minutes (it should only parse).");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Theory]
    [InlineData("Ctm.Samples.Toy2D", "--dataset|--quick|--teacher-steps|--ctm-steps|--no-gan|--no-dsm|--self-teacher|--seed|--out|--batch|--ctm-batch|--ctm-lr|--gan-start|--target-ema|--eval-ema|--threads|--reuse-teacher|[default: 16000, 300 with --quick]" +
        "|--sequential|--hidden|--blocks|--emb-scale|--teacher-lr|--grid|--max-teacher-steps|--disc-hidden|--disc-lr|--huber|--sigma-max|--gan-weight|--trajectory-bank|[default: 65536, 8192 with --quick]|[default: 4]|--blur|--teacher-lr-decay|--teacher-p-mean|--teacher-p-std|[default: -1.2]|--dsm-p-mean|--dsm-p-std")]
    [InlineData("Ctm.Samples.Mnist", "--quick|--out|--data|--threads|--teacher-steps|--ctm-steps|--max-teacher-steps|--gan-start|--uncond|--no-gan|--batch|--ctm-lr|--ema|--eval-every|--cache|--save-ctm")]
    [InlineData("Ctm.Samples.Editing", "--ctm|--quick|--uncond|--cache|--out|--data|--n|--nfe|--gamma|--stroke-t|--seed|--threads|[default: 8]")]
    [InlineData("Ctm.Samples.Gaussian2D", "--out|--n|--seed|[default: 4000]")]
    [InlineData("Ctm.Benchmarks", "quality|toy2d|likelihood|mnist|mnist-gamma|mnist-samplers|adm|perf")]
    public void Help_ListsEveryOption(string project, string expected)
    {
        var (exit, output) = Run(project, "--help");
        Assert.Equal(0, exit);
        Assert.Contains("Usage:", output);
        foreach (var name in expected.Split('|')) Assert.Contains(name, output);
    }

    [Theory]
    [InlineData("Ctm.Samples.Toy2D")]
    [InlineData("Ctm.Samples.Mnist")]
    [InlineData("Ctm.Samples.Editing")]
    [InlineData("Ctm.Samples.Gaussian2D")]
    [InlineData("Ctm.Benchmarks")]
    public void AnUnknownFlag_IsAnError(string project)
    {
        var (exit, output) = Run(project, "--no-such-flag");
        Assert.NotEqual(0, exit);
        Assert.Contains("Unrecognized command or argument '--no-such-flag'", output);
    }

    [Theory]
    [InlineData("Ctm.Samples.Toy2D", "--ctm-steps", "3.5")]
    [InlineData("Ctm.Samples.Toy2D", "--dataset", "pinwheel")]
    [InlineData("Ctm.Samples.Toy2D", "--dataset", "no-such-points.csv")]
    [InlineData("Ctm.Samples.Toy2D", "--blur", "-0.5")]
    [InlineData("Ctm.Samples.Mnist", "--ema", "fast")]
    [InlineData("Ctm.Samples.Toy2D", "--sigma-max", "large")]
    [InlineData("Ctm.Samples.Toy2D", "--trajectory-bank", "many")]
    [InlineData("Ctm.Samples.Editing", "--n", "5000")]
    [InlineData("Ctm.Samples.Gaussian2D", "--seed", "-1")]
    public void ABadValue_IsAnErrorNamingTheOption(string project, string option, string value)
    {
        var (exit, output) = Run(project, option, value);
        Assert.NotEqual(0, exit);
        Assert.Contains(value, output);
        Assert.Contains(option, output);
    }

    [Theory]
    [InlineData("--teacher-p-std", "0", "EdmTrainingOptions.PStd = 0")]
    [InlineData("--batch", "1", "ToyConfig.Batch = 1")]
    [InlineData("--max-teacher-steps", "40", "CtmTrainingOptions.MaxTeacherSteps = 40")]
    [InlineData("--sigma-max", "0", "CtmOptions.SigmaMax = 0")]
    public void Toy2dSettingsThatCannotTrain_AreErrorsBeforeAnythingRuns(string option, string value, string message)
    {
        var (exit, output) = Run("Ctm.Samples.Toy2D", option, value);
        Assert.NotEqual(0, exit);
        Assert.Matches($"{System.Text.RegularExpressions.Regex.Escape(option)}[^\n]*: {System.Text.RegularExpressions.Regex.Escape(message)}", output);
        Assert.Contains("Nothing was trained", output);
        Assert.DoesNotContain("2-D demo: teacher", output);   // the run's first log line: nothing started
        Assert.DoesNotContain("Unhandled exception", output);
    }

    [Fact]
    public void Toy2dBlur_IsOnlyForAPointFile()
    {
        var (exit, output) = Run("Ctm.Samples.Toy2D", "--dataset", "ring", "--blur", "0.03");
        Assert.NotEqual(0, exit);
        Assert.Contains("--blur", output);
        Assert.Contains(".csv", output);
        (exit, output) = Run("Ctm.Samples.Toy2D", "--blur", "-0.5");
        Assert.NotEqual(0, exit);
        Assert.Contains("--blur must be > 0", output);
    }

    [Fact]
    public void BenchToy2d_RejectsAnUnknownLawByName()
    {
        var (exit, output) = Run("Ctm.Benchmarks", "toy2d", "--laws", "ring,pinwheel");
        Assert.NotEqual(0, exit);
        Assert.Contains("--laws", output);
        Assert.Contains("'pinwheel'", output);
        Assert.Contains("moons", output);   // the error lists the laws there are
    }

    [Fact]
    public void BenchmarkVerbs_HaveTheirOwnHelpAndRejectUnknownFlags()
    {
        var (exit, output) = Run("Ctm.Benchmarks", "mnist", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("--data", output);
        Assert.NotEqual(0, Run("Ctm.Benchmarks", "toy2d", "--qiuck").Exit);
        (exit, output) = Run("Ctm.Benchmarks", "mnist-samplers", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("--ctm", output);
        Assert.NotEqual(0, Run("Ctm.Benchmarks", "adm", "--batches", "1,x").Exit);
        (exit, output) = Run("Ctm.Benchmarks", "mnist-samplers", "--quick");
        Assert.NotEqual(0, exit);
        Assert.Contains("--ctm", output);
        (exit, output) = Run("Ctm.Benchmarks", "toy2d-nfe2", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("--laws", output);
        Assert.Contains("--cache", output);
        Assert.NotEqual(0, Run("Ctm.Benchmarks", "toy2d-nfe2", "--laws", "spiral").Exit);
    }
}
