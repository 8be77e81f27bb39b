using System;
using Ctm.Core.Preconditioning;
using Ctm.Core.Schedules;
using Xunit;

namespace Ctm.Core.Tests;

/// <summary>Pure double math: no libtorch is loaded by these tests.</summary>
public class ScheduleMathTests
{
    [Theory]
    [InlineData(Ctm.Core.Training.LearningRateDecay.Linear, 0.5 * (1 + 0.1))]
    [InlineData(Ctm.Core.Training.LearningRateDecay.Cosine, 0.5 * (1 + 0.1))]
    public void LearningRateDecay_RunsFromOneToTheFinalFactorBetweenItsSteps(Ctm.Core.Training.LearningRateDecay decay, double midpoint)
    {
        double F(long step) => Ctm.Core.Training.LearningRateSchedule.Factor(decay, step, 100, 300, 0.1);
        Assert.Equal(1.0, F(0));
        Assert.Equal(1.0, F(100));
        Assert.Equal(midpoint, F(200), 12);         // both shapes pass the midpoint half way
        Assert.Equal(0.1, F(300), 12);
        Assert.Equal(0.1, F(5000), 12);
        for (long s = 100; s < 300; s++) Assert.True(F(s + 1) <= F(s));
        // Linear falls by the same amount each step; cosine is flat at both ends.
        double first = F(101) - F(100), middle = F(201) - F(200);
        if (decay == Ctm.Core.Training.LearningRateDecay.Linear) Assert.Equal(first, middle, 12);
        else Assert.True(Math.Abs(first) < 0.05 * Math.Abs(middle));
        Assert.Equal(1.0, Ctm.Core.Training.LearningRateSchedule.Factor(Ctm.Core.Training.LearningRateDecay.None, 5000, 100, 300, 0.1));
    }

    [Fact]
    public void SamplingGrid_Nfe2_MatchesOfficialNumbers()
    {
        var g = KarrasSchedule.SamplingGrid(2);
        Assert.Equal(3, g.Length);
        Assert.Equal(80.0, g[0]);
        Assert.Equal(2.5152, g[1], 4);
        Assert.Equal(0.002, g[2]);
    }

    [Fact]
    public void SamplingGrid_Nfe3_MatchesOfficialNumbers()
    {
        var g = KarrasSchedule.SamplingGrid(3);
        Assert.Equal(new[] { 80.0, 9.723, 0.470, 0.002 }, Round(g, 3));
    }

    [Fact]
    public void SamplingGrid_Nfe4_MatchesOfficialNumbers()
    {
        var g = KarrasSchedule.SamplingGrid(4);
        Assert.Equal(80.0, g[0]);
        Assert.Equal(17.53, g[1], 2);
        Assert.Equal(2.515, g[2], 3);
        Assert.Equal(0.170, g[3], 3);
        Assert.Equal(0.002, g[4]);
    }

    [Fact]
    public void SamplingGrid_Nfe1_IsOneJump()
    {
        Assert.Equal(new[] { 80.0, 0.002 }, KarrasSchedule.SamplingGrid(1));
    }

    [Fact]
    public void TrainingGrid_N18_MatchesCifarGrid()
    {
        double[] official = { 80, 57.59, 40.79, 28.37, 19.35, 12.91, 8.40, 5.32, 3.26, 1.92, 1.09, 0.585, 0.296, 0.140, 0.060, 0.023, 0.0075, 0.002 };
        var g = KarrasSchedule.Sigmas(18);
        Assert.Equal(official.Length, g.Length);
        for (int i = 0; i < g.Length; i++)
            Assert.True(Math.Abs(g[i] - official[i]) <= 0.006 * official[i] + 1e-4, $"grid[{i}] = {g[i]}, official {official[i]}");
    }

    [Fact]
    public void Sigmas_FollowTheRhoFormula_AndAreStrictlyDescending()
    {
        var g = KarrasSchedule.Sigmas(11, 0.01, 10, 3);
        for (int i = 0; i < g.Length; i++)
        {
            double expected = Math.Pow(Math.Pow(10, 1 / 3.0) + i / 10.0 * (Math.Pow(0.01, 1 / 3.0) - Math.Pow(10, 1 / 3.0)), 3);
            Assert.Equal(expected, g[i], 12);
            if (i > 0) Assert.True(g[i] < g[i - 1]);
        }
    }

    [Fact]
    public void EdmGrid_AppendsZero()
    {
        var g = KarrasSchedule.EdmGrid(18);
        Assert.Equal(19, g.Length);
        Assert.Equal(0.0, g[18]);
        Assert.Equal(KarrasSchedule.Sigmas(18), g[..18]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void SamplingGrid_RejectsNonPositiveSteps(int nfe)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => KarrasSchedule.SamplingGrid(nfe));
        Assert.Equal("nfe", e.ParamName);
    }

    [Fact]
    public void Sigmas_RejectBadRanges()
    {
        Assert.Equal("sigmaMin", Assert.Throws<ArgumentOutOfRangeException>(() => KarrasSchedule.Sigmas(5, 0.0, 80)).ParamName);
        Assert.Equal("sigmaMax", Assert.Throws<ArgumentOutOfRangeException>(() => KarrasSchedule.Sigmas(5, 1.0, 0.5)).ParamName);
        Assert.Equal("rho", Assert.Throws<ArgumentOutOfRangeException>(() => KarrasSchedule.Sigmas(5, 0.002, 80, double.NaN)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => KarrasSchedule.Sigmas(1)).ParamName);
    }

    [Fact]
    public void Validate_RejectsNonDescendingOutOfRangeAndZeroWhenNotAllowed()
    {
        Assert.Contains("strictly descending", Assert.Throws<ArgumentException>(() => KarrasSchedule.Validate(new[] { 80, 1.0, 1.0, 0.002 }, 0.002, 80, false)).Message);
        Assert.Contains("strictly descending", Assert.Throws<ArgumentException>(() => KarrasSchedule.Validate(new[] { 0.002, 80.0 }, 0.002, 80, false)).Message);
        Assert.Contains("above σ_max", Assert.Throws<ArgumentException>(() => KarrasSchedule.Validate(new[] { 81.0, 0.002 }, 0.002, 80, false)).Message);
        Assert.Contains("below σ_min", Assert.Throws<ArgumentException>(() => KarrasSchedule.Validate(new[] { 80.0, 0.0 }, 0.002, 80, false)).Message);
        Assert.Contains("at least 2", Assert.Throws<ArgumentException>(() => KarrasSchedule.Validate(new[] { 80.0 }, 0.002, 80, false)).Message);
        KarrasSchedule.Validate(new[] { 80.0, 1.0, 0.0 }, 0.002, 80, allowFinalZero: true);
        Assert.Throws<ArgumentException>(() => KarrasSchedule.Validate(new[] { 80.0, 0.0, 0.0 }, 0.002, 80, true));
    }

    [Theory]
    [InlineData(0.002)]
    [InlineData(0.5)]
    [InlineData(80)]
    public void EdmScalings_MatchTheirDefinitions(double sigma)
    {
        const double sd = 0.5;
        Assert.Equal(sd * sd / (sigma * sigma + sd * sd), EdmPreconditioning.CSkip(sigma, sd), 14);
        Assert.Equal(sigma * sd / Math.Sqrt(sigma * sigma + sd * sd), EdmPreconditioning.COut(sigma, sd), 14);
        Assert.Equal(1 / Math.Sqrt(sigma * sigma + sd * sd), EdmPreconditioning.CIn(sigma, sd), 14);
        Assert.Equal(Math.Log(sigma) / 4, EdmPreconditioning.CNoise(sigma), 14);
        // λ(σ) = 1/c_out²; and the EDM identity c_skip² σ_d² + c_out²… : Var[c_skip x_σ + c_out F_target] = σ_d² requires
        // c_skip²(σ_d² + σ²) − 2 c_skip σ_d² + σ_d² = c_out².
        Assert.Equal(1 / Math.Pow(EdmPreconditioning.COut(sigma, sd), 2), EdmPreconditioning.LossWeight(sigma, sd), 8);
        double cs = EdmPreconditioning.CSkip(sigma, sd), co = EdmPreconditioning.COut(sigma, sd);
        Assert.Equal(co * co, cs * cs * (sd * sd + sigma * sigma) - 2 * cs * sd * sd + sd * sd, 10);
    }

    [Fact]
    public void EdmScalings_LimitsAtZeroNoise()
    {
        Assert.Equal(1.0, EdmPreconditioning.CSkip(0, 0.5));
        Assert.Equal(0.0, EdmPreconditioning.COut(0, 0.5));
    }

    [Fact]
    public void JumpCoefficients_IdentityAtEqualTimes_AndDenoiserAtZero()
    {
        Assert.Equal(3.0, CtmJump.Apply(3.0, -7.0, 2.0, 2.0));
        Assert.Equal(-7.0, CtmJump.Apply(3.0, -7.0, 2.0, 0.0));
        Assert.Equal(0.25, CtmJump.SkipCoefficient(4, 1));
        Assert.Equal(0.75, CtmJump.OutCoefficient(4, 1));
        Assert.Equal(0.25 * 3 + 0.75 * -7, CtmJump.Apply(3.0, -7.0, 4.0, 1.0), 14);
    }

    private static double[] Round(double[] a, int digits) => Array.ConvertAll(a, v => Math.Round(v, digits));
}
