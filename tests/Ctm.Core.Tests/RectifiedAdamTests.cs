using System;
using System.IO;
using Ctm.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

[Collection("Torch")]
public class RectifiedAdamTests
{
    /// <summary>PyTorch's RAdam on one scalar, in doubles, for gradients g_t.</summary>
    private static double Reference(double theta, Func<double, double> grad, int steps, double lr, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8)
    {
        double m = 0, v = 0, rhoInf = 2 / (1 - b2) - 1;
        for (int t = 1; t <= steps; t++)
        {
            double g = grad(theta);
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double bc1 = 1 - Math.Pow(b1, t), bc2 = 1 - Math.Pow(b2, t);
            double rhoT = rhoInf - 2 * t * Math.Pow(b2, t) / bc2;
            if (rhoT > 5)
            {
                double r = Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
                theta -= lr * (m / bc1) * r * Math.Sqrt(bc2) / (Math.Sqrt(v) + eps);
            }
            else theta -= lr * m / bc1;
        }
        return theta;
    }

    [Fact]
    public void MatchesPyTorchsUpdate_InBothBranches()
    {
        // loss = (θ − 3)², gradient 2(θ − 3); 20 steps cover ρ_t ≤ 5 (steps 1–5) and the rectified branch.
        var p = new Parameter(tensor(new[] { 0.5 }, dtype: ScalarType.Float64));
        using var opt = new RectifiedAdam(new[] { p }, lr: 0.01);
        for (int i = 0; i < 20; i++)
        {
            opt.ZeroGrad();
            using var loss = (p - 3).square().sum();
            loss.backward();
            opt.Step();
        }
        Assert.Equal(Reference(0.5, th => 2 * (th - 3), 20, 0.01), p.item<double>(), 12);
        p.Dispose();
    }

    [Fact]
    public void SaveLoad_ContinuesIdentically()
    {
        var a = new Parameter(tensor(new[] { 0.5, -1.0 }, dtype: ScalarType.Float64));
        var b = new Parameter(tensor(new[] { 0.5, -1.0 }, dtype: ScalarType.Float64));
        using var oa = new RectifiedAdam(new[] { a }, 0.05);
        void Run(RectifiedAdam o, Parameter p, int n)
        {
            for (int i = 0; i < n; i++) { o.ZeroGrad(); using var l = (p.square() * p).sum(); l.backward(); o.Step(); }
        }
        Run(oa, a, 12);
        using (var ob = new RectifiedAdam(new[] { b }, 0.05))
        {
            Run(ob, b, 7);
            using var ms = new MemoryStream();
            using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, true)) ob.Save(w);
            ms.Position = 0;
            using var oc = new RectifiedAdam(new[] { b }, 0.05);
            using (var r = new BinaryReader(ms)) oc.Load(r);
            Assert.Equal(7, oc.StepCount);
            Run(oc, b, 5);
        }
        Assert.True(a.equal(b).all().item<bool>());
        a.Dispose(); b.Dispose();
    }

    [Fact]
    public void BadSettings_AreRejected()
    {
        var p = new Parameter(zeros(1));
        Assert.Equal("lr", Assert.Throws<ArgumentOutOfRangeException>(() => new RectifiedAdam(new[] { p }, 0)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new RectifiedAdam(new[] { p }, 1e-3, beta2: 1.0)).ParamName);
        p.Dispose();
    }
}
