using System;
using Ctm.Samples;
using Xunit;

namespace Ctm.Core.Tests;

/// <summary>The samples' option parsing (samples/Shared/CommandLine.cs).</summary>
public sealed class CommandLineTests
{
    [Fact]
    public void ValuesFlagsAndFallbacks()
    {
        var cli = new CommandLine(new[] { "--ctm-steps", "3500", "--ctm-lr", "4e-4", "--seed", "18446744073709551615", "--cache", "--out", "dir" });
        Assert.Equal(3500, cli.Int("--ctm-steps", 1));
        Assert.Equal(4e-4, cli.Number("--ctm-lr", 1));
        Assert.Equal(ulong.MaxValue, cli.UInt64("--seed", 0));
        Assert.True(cli.Flag("--cache"));
        Assert.Equal("fallback", cli.Value("--cache", "fallback")); // followed by a flag: no value
        Assert.Equal("dir", cli.Value("--out", "x"));
        Assert.Equal(7, cli.Int("--batch", 7));
    }

    [Theory]
    [InlineData("--ctm-steps", "3.5")]
    [InlineData("--ctm-lr", "fast")]
    [InlineData("--seed", "-1")]
    public void ABadValueNamesTheOption(string name, string value)
    {
        var cli = new CommandLine(new[] { name, value });
        var e = Assert.Throws<ArgumentException>(() =>
        {
            if (name == "--ctm-lr") cli.Number(name, 1);
            else if (name == "--seed") cli.UInt64(name, 0);
            else cli.Int(name, 1);
        });
        Assert.Equal(name, e.ParamName);
        Assert.Contains($"{name} {value}", e.Message);
    }
}
