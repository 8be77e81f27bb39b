using System;
using System.Linq;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Preconditioning;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

[Collection("Torch")]
public class TrajectoryModelTests
{
    [Fact]
    public void Predict_AppliesEdmPreconditioning()
    {
        using var net = new AffineProbeNet();
        var model = new CtmTrajectoryModel(net);
        using var x = tensor(new[] { 1.0, -2.0, 0.5, 4.0 }, dtype: ScalarType.Float64).reshape(2, 2);
        using var t = tensor(new[] { 3.0, 0.1 }, dtype: ScalarType.Float64);
        using var s = tensor(new[] { 1.0, 0.002 }, dtype: ScalarType.Float64);
        using var g = model.Predict(x, t, s);
        using var jump = model.Jump(x, t, s);
        const double sd = 0.5;
        double[] xs = { 1.0, -2.0, 0.5, 4.0 }, ts = { 3.0, 0.1 }, ss = { 1.0, 0.002 };
        for (int b = 0; b < 2; b++)
            for (int d = 0; d < 2; d++)
            {
                double xv = xs[2 * b + d], tv = ts[b], sv = ss[b];
                double f = 2 * EdmPreconditioning.CIn(tv, sd) * xv + 3 * Math.Log(tv) / 4 - 5 * Math.Log(sv) / 4;
                double gv = EdmPreconditioning.CSkip(tv, sd) * xv + EdmPreconditioning.COut(tv, sd) * f;
                Assert.Equal(gv, g[b, d].item<double>(), 12);
                Assert.Equal(sv / tv * xv + (1 - sv / tv) * gv, jump[b, d].item<double>(), 12);
            }
        // The network sees c_noise = ln(σ)/4 as [B] vectors.
        Assert.Equal(new long[] { 2 }, net.LastCNoiseT!.shape);
        Assert.Equal(Math.Log(0.1) / 4, net.LastCNoiseT[1].item<double>(), 12);
        Assert.Equal(Math.Log(0.002) / 4, net.LastCNoiseS![1].item<double>(), 12);
    }

    [Fact]
    public void Jump_AtEqualTimes_IsIdentity_ForANetwork()
    {
        using var net = new TrajectoryMlp(new MlpOptions { Dimension = 3, Hidden = 32, Blocks = 2 });
        var model = new CtmTrajectoryModel(net);
        using var gen = new Generator(1);
        using var x = randn(new long[] { 16, 3 }, generator: gen);
        using var y = model.Jump(x, 5.0, 5.0);
        TensorAssert.Close(x, y, 1e-6, 1e-6);
    }

    [Fact]
    public void Denoise_IsTheDiagonalOfPredict()
    {
        using var net = new TrajectoryMlp(new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 1 });
        var model = new CtmTrajectoryModel(net);
        using var gen = new Generator(2);
        using var x = randn(new long[] { 8, 2 }, generator: gen);
        using var d = model.Denoise(x, 0.7);
        using var p = model.Predict(x, 0.7, 0.7);
        TensorAssert.Close(p, d, 1e-6, 1e-7);
    }

    [Fact]
    public void ScalarAndPerSampleTimes_Agree()
    {
        using var net = new TrajectoryMlp(new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 1 });
        var model = new CtmTrajectoryModel(net);
        using var gen = new Generator(3);
        using var x = randn(new long[] { 5, 2 }, generator: gen);
        using var a = model.Jump(x, 10.0, 0.3);
        using var tv = full(5, 10.0f);
        using var sv = full(5, 0.3f);
        using var b = model.Jump(x, tv, sv);
        TensorAssert.Close(a, b, 1e-6, 1e-7);
    }

    [Fact]
    public void Labels_ReachTheNetwork_AndAreRangeChecked()
    {
        using var net = new LabelProbeNet();
        var model = new CtmTrajectoryModel(net, numClasses: 3);
        using var x = zeros(2, 1, dtype: ScalarType.Float64);
        using var labels = tensor(new long[] { 0, 2 });
        using var g = model.Predict(x, 1.0, 0.5, labels);
        double cout = EdmPreconditioning.COut(1.0, 0.5);
        Assert.Equal(0.0, g[0, 0].item<double>(), 12);
        Assert.Equal(2 * cout, g[1, 0].item<double>(), 12);
        using var bad = tensor(new long[] { 0, 3 });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(x, 1.0, 0.5, bad));
        Assert.Equal("labels", e.ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentNullException>(() => model.Predict(x, 1.0, 0.5)).ParamName);
    }

    [Fact]
    public void Model_DoesNotDisposeTheNetwork_AndFollowsItsDevice()
    {
        using var net = new TrajectoryMlp(new MlpOptions { Dimension = 2, Hidden = 8, Blocks = 1 });
        var model = new CtmTrajectoryModel(net);
        Assert.Equal(DeviceType.CPU, model.Device.type);
        Assert.Equal(ScalarType.Float32, model.DType);
        using (var x = zeros(1, 2)) using (var y = model.Jump(x, 1.0, 0.5)) { }
        Assert.All(net.parameters(), p => Assert.False(p.IsInvalid));
    }

    [Fact]
    public void TeacherKeys_AreTheStudentKeysWithoutTheSBranch()
    {
        var o = new MlpOptions { Dimension = 2, Hidden = 8, Blocks = 2 };
        using var student = new TrajectoryMlp(o);
        using var teacher = new DenoiserMlp(o);
        var sk = student.state_dict().Keys.ToHashSet();
        var tk = teacher.state_dict().Keys.ToHashSet();
        Assert.Subset(sk, tk);
        var extra = sk.Except(tk).ToList();
        Assert.NotEmpty(extra);
        Assert.All(extra, k => Assert.True(k.StartsWith("map_s.") || k.Contains(".affine_s."), k));
    }

    [Fact]
    public void EdmDenoiser_AppliesThePreconditioning()
    {
        using var net = new DenoiserMlp(new MlpOptions { Dimension = 2, Hidden = 8, Blocks = 1 });
        net.to(ScalarType.Float64);
        var teacher = new EdmDenoiser(net);
        using var gen = new Generator(4);
        using var x = randn(new long[] { 3, 2 }, dtype: ScalarType.Float64, generator: gen);
        using var d = teacher.Denoise(x, 2.0);
        using var cn = full(3, Math.Log(2.0) / 4, dtype: ScalarType.Float64);
        using var f = net.call(x * EdmPreconditioning.CIn(2.0, 0.5), cn);
        using var expected = EdmPreconditioning.CSkip(2.0, 0.5) * x + EdmPreconditioning.COut(2.0, 0.5) * f;
        TensorAssert.Close(expected, d, 1e-12, 1e-12);
    }

    [Fact]
    public void Gradients_FlowThroughJump()
    {
        using var net = new TrajectoryMlp(new MlpOptions { Dimension = 2, Hidden = 8, Blocks = 1 });
        var model = new CtmTrajectoryModel(net);
        using var x = ones(4, 2);
        using var y = model.Jump(x, 3.0, 0.1);
        using var loss = y.square().sum();
        loss.backward();
        Assert.Contains(net.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
        net.zero_grad();
    }
}
