using System;
using Ctm.Core.Analytic;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Solvers;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>Bad input is a clear ArgumentException naming the argument, never a native error or a silent NaN.</summary>
[Collection("Torch")]
public class ValidationTests : IDisposable
{
    private readonly TrajectoryMlp _net = new(new MlpOptions { Dimension = 2, Hidden = 8, Blocks = 1 });
    private readonly CtmTrajectoryModel _model;
    private readonly GammaSampler _sampler;

    public ValidationTests()
    {
        _model = new CtmTrajectoryModel(_net);
        _sampler = new GammaSampler(_model, new long[] { 2 });
    }

    public void Dispose() => _net.Dispose();

    private static T Throws<T>(string param, Action action, string? messagePart = null) where T : ArgumentException
    {
        var e = Assert.ThrowsAny<T>(action);
        Assert.Equal(param, e.ParamName);
        if (messagePart is not null) Assert.Contains(messagePart, e.Message);
        return e;
    }

    [Fact]
    public void SAfterT_IsRejected()
    {
        using var x = zeros(2, 2);
        Throws<ArgumentException>("s", () => _model.Jump(x, 1.0, 2.0).Dispose(), "must not exceed t");
    }

    [Fact]
    public void SBelowSigmaMin_IsRejected()
    {
        using var x = zeros(2, 2);
        Throws<ArgumentOutOfRangeException>("s", () => _model.Jump(x, 1.0, 0.001).Dispose(), "σ_min");
        Throws<ArgumentOutOfRangeException>("s", () => _model.Jump(x, 1.0, 0.0).Dispose());
    }

    [Fact]
    public void TAboveSigmaMax_IsRejected()
    {
        using var x = zeros(2, 2);
        Throws<ArgumentOutOfRangeException>("t", () => _model.Jump(x, 81.0, 1.0).Dispose(), "σ_max");
        using var tv = tensor(new[] { 1.0f, 100f });
        using var sv = tensor(new[] { 0.5f, 0.5f });
        Throws<ArgumentOutOfRangeException>("t", () => _model.Jump(x, tv, sv).Dispose());
    }

    [Fact]
    public void GridEndpointsWithRounding_AreAccepted()
    {
        using var x = zeros(2, 2);
        using var y = _model.Jump(x, 80.0 * (1 + 1e-9), 0.002 * (1 - 1e-9));
    }

    [Fact]
    public void NonPositiveSampleCount_IsRejected()
    {
        Throws<ArgumentOutOfRangeException>("n", () => _sampler.Sample(0, 0.0, 1).Dispose());
        Throws<ArgumentOutOfRangeException>("n", () => _sampler.Sample(-5, 0.0, 1).Dispose());
    }

    [Fact]
    public void StepsBelowOne_IsRejected()
    {
        Throws<ArgumentOutOfRangeException>("steps", () => _sampler.Sample(4, 0.0, 0).Dispose());
        using var x = zeros(2, 2);
        Throws<ArgumentOutOfRangeException>("steps", () => _sampler.Sample(x, 0.0, 0).Dispose());
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void GammaOutsideUnitInterval_IsRejected(double gamma)
    {
        Throws<ArgumentOutOfRangeException>("gamma", () => _sampler.Sample(4, gamma, 2).Dispose(), "[0, 1]");
    }

    [Fact]
    public void WrongRankOrShape_IsRejected()
    {
        using var flat = zeros(2);
        Throws<ArgumentException>("x", () => _model.Jump(flat, 1.0, 0.5).Dispose(), "batch dimension");
        using var x = zeros(3, 2);
        using var tv = tensor(new[] { 1.0f, 1.0f });
        Throws<ArgumentException>("t", () => _model.Jump(x, tv, tv).Dispose(), "shape [3]");
        using var wrong = zeros(3, 5);
        Throws<ArgumentException>("xT", () => _sampler.Sample(wrong, 0.0, 1).Dispose(), "[B, 2]");
        using var labels = tensor(new long[] { 0, 1 });
        using var mixture = GaussianMixtureModel.Ring(4, classPerMode: true);
        var labelled = new GammaSampler(mixture, new long[] { 2 });
        Throws<ArgumentException>("labels", () => labelled.Sample(3, 0.0, 1, labels).Dispose(), "shape [3]");
    }

    [Fact]
    public void NetworkWithWrongInputWidth_FailsWithAClearMessage()
    {
        using var x = zeros(3, 5);
        var e = Assert.ThrowsAny<ArgumentException>(() => _model.Jump(x, 1.0, 0.5).Dispose());
        Assert.Contains("[B, 2]", e.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void NonFiniteX_IsRejected(double bad)
    {
        using var x = zeros(2, 2);
        x[1, 0] = tensor((float)bad);
        Throws<ArgumentException>("x", () => _model.Jump(x, 1.0, 0.5).Dispose(), "NaN or infinite");
        Throws<ArgumentException>("xT", () => _sampler.Sample(x, 0.0, 1).Dispose(), "NaN or infinite");
        using var g = new GaussianModel(new[] { 0.0, 0.0 }, 1.0);
        Throws<ArgumentException>("x", () => HeunSolver.Instance.Solve(g, x, new[] { 1.0, 0.5 }).Dispose(), "NaN or infinite");
    }

    [Fact]
    public void NonFiniteTime_IsRejected()
    {
        using var x = zeros(2, 2);
        using var t = tensor(float.NaN);
        using var s = tensor(0.5f);
        Throws<ArgumentException>("t", () => _model.Jump(x, t, s).Dispose(), "NaN");
    }

    [Fact]
    public void DTypeMismatch_IsRejected()
    {
        using var x = zeros(new long[] { 2, 2 }, dtype: ScalarType.Float64);
        Throws<ArgumentException>("x", () => _model.Jump(x, 1.0, 0.5).Dispose(), "Float64");
        using var ints = zeros(new long[] { 2, 2 }, dtype: ScalarType.Int32);
        Throws<ArgumentException>("x", () => _model.Jump(ints, 1.0, 0.5).Dispose(), "floating-point");
    }

    [Fact]
    public void DeviceMismatch_IsRejected()
    {
        using var x = zeros(new long[] { 2, 2 }, device: torch.device("meta"));
        Throws<ArgumentException>("x", () => _model.Jump(x, 1.0, 0.5).Dispose(), "model.Device");
    }

    [Fact]
    public void NonDescendingGrid_IsRejected()
    {
        Throws<ArgumentException>("timeGrid", () => _sampler.Sample(4, 0.0, new[] { 1.0, 2.0, 0.002 }).Dispose(), "strictly descending");
        Throws<ArgumentException>("timeGrid", () => _sampler.Sample(4, 0.0, new[] { 80.0, 0.0 }).Dispose(), "σ_min");
        using var g = new GaussianModel(new[] { 0.0, 0.0 }, 1.0);
        using var x = zeros(2, 2);
        Throws<ArgumentException>("timeGrid", () => EulerSolver.Instance.Solve(g, x, new[] { 1.0, 1.0 }).Dispose(), "strictly descending");
    }

    [Fact]
    public void UnconditionalModelGivenLabels_IsRejected()
    {
        using var x = zeros(2, 2);
        using var labels = tensor(new long[] { 0, 1 });
        Throws<ArgumentException>("labels", () => _model.Jump(x, 1.0, 0.5, labels).Dispose(), "unconditional");
    }

    [Fact]
    public void BadOptions_AreRejectedWithTheOptionName()
    {
        var e = Assert.Throws<ArgumentException>(() => new CtmTrajectoryModel(_net, new CtmOptions { SigmaMin = 0 }));
        Assert.Contains("SigmaMin", e.Message);
        e = Assert.Throws<ArgumentException>(() => new CtmTrajectoryModel(_net, new CtmOptions { SigmaMax = 0.001 }));
        Assert.Contains("SigmaMax", e.Message);
        e = Assert.Throws<ArgumentException>(() => new CtmTrajectoryModel(_net, new CtmOptions { SigmaData = -1 }));
        Assert.Contains("SigmaData", e.Message);
        var validator = new CtmOptionsValidator();
        Assert.True(validator.Validate(null, new CtmOptions()).Succeeded);
        Assert.True(validator.Validate(null, new CtmOptions { Rho = double.NaN }).Failed);
    }

    [Fact]
    public void DefaultOptions_AreThePapers()
    {
        var o = new CtmOptions();
        Assert.Equal(0.002, o.SigmaMin);
        Assert.Equal(80.0, o.SigmaMax);
        Assert.Equal(0.5, o.SigmaData);
        Assert.Equal(7.0, o.Rho);
    }

    [Fact]
    public void Cancellation_StopsSampling()
    {
        using var cts = new System.Threading.CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => _sampler.Sample(4, 0.0, 3, cancellationToken: cts.Token).Dispose());
    }
}
