using System;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

[Collection("Torch")]
public class CtmLossTests
{
    private readonly ITestOutputHelper _out;
    public CtmLossTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void ExactModel_SelfTeacher_CtmLossIsZero()
    {
        using var m = GammaSamplingMomentTests.TestMixture();
        var loss = new CtmLoss(m, m, null, new CtmTrainingOptions { TeacherMode = TeacherMode.SelfTeacher, DsmWeight = 0, AdaptiveWeights = false });
        using var g = new Generator(1);
        using var x0 = m.SampleData(256, g);
        using var r = loss.GeneratorLoss(x0, null, g, withGan: false);
        _out.WriteLine($"CTM loss {r.Breakdown.Ctm:E3}, k {r.Breakdown.K}");
        Assert.True(r.Breakdown.Ctm < 1e-9, $"CTM loss {r.Breakdown.Ctm}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1024)]
    public void ExactModel_HeunTeacher_CtmLossVanishesAsTheGridRefines(int trajectoryBank)
    {
        // With the exact G* as student and target, the only error left is the teacher's Heun discretisation, O(h²).
        // With a trajectory bank, x_u must be the teacher's Heun solution from the x_t of the same trajectory: a
        // mismatched pairing (another row, another grid index) would leave an O(1) loss, not O(h²).
        using var m = new GaussianModel(new[] { 0.3, -0.1 }, 0.5, dtype: ScalarType.Float64);
        double Loss(int n)
        {
            using var loss = new CtmLoss(m, m, m, new CtmTrainingOptions
            {
                GridPoints = n, MaxTeacherSteps = 4, DsmWeight = 0, AdaptiveWeights = false, TrajectoryBankSize = trajectoryBank,
            });
            using var g = new Generator(2);
            using var x0 = m.SampleData(512, g);
            double total = 0;
            for (int i = 0; i < 8; i++) { using var r = loss.GeneratorLoss(x0, null, g, false); total += r.Breakdown.Ctm!.Value; }
            return total / 8;
        }
        double coarse = Loss(40), fine = Loss(160);
        _out.WriteLine($"bank {trajectoryBank}, N=40: {coarse:E3}, N=160: {fine:E3}");
        Assert.True(fine < 1e-6, $"fine-grid CTM loss {fine}");
        Assert.True(fine < coarse / 10, $"loss should fall with the grid: {coarse} → {fine}");
    }

    [Fact]
    public void ExactDenoiser_DsmEqualsItsAnalyticMinimum()
    {
        // For x_0 ~ N(μ, σ_d² I) the exact denoiser's error is σ_d²σ²/(σ_d² + σ²) per dimension, and λ(σ) times it is 1
        // for every σ: the DSM minimum is exactly 1 (per-sample variance 2/D).
        using var m = new GaussianModel(new[] { 0.2, -0.4 }, 0.5, dtype: ScalarType.Float64);
        var loss = new CtmLoss(m, m, null, new CtmTrainingOptions { TeacherMode = TeacherMode.SelfTeacher, AdaptiveWeights = false });
        using var g = new Generator(3);
        using var x0 = m.SampleData(20_000, g);
        using var r = loss.GeneratorLoss(x0, null, g, false);
        double se = Math.Sqrt(2.0 / 2 / 20_000);
        _out.WriteLine($"DSM {r.Breakdown.Dsm:F5} (minimum 1, SE {se:F5})");
        Assert.InRange(r.Breakdown.Dsm!.Value, 1 - 4 * se, 1 + 4 * se);
    }

    [Fact]
    public void Gradients_FlowOnlyThroughTheNamedPaths()
    {
        var o = new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 1 };
        using var studentNet = new TrajectoryMlp(o);
        using var targetNet = new TrajectoryMlp(o);
        using var teacherNet = new DenoiserMlp(o);
        Ema.Copy(targetNet, studentNet);
        foreach (var p in targetNet.parameters()) p.requires_grad_(false);
        foreach (var p in teacherNet.parameters()) p.requires_grad_(false);
        var student = new CtmTrajectoryModel(studentNet);
        var target = new CtmTrajectoryModel(targetNet);
        var loss = new CtmLoss(student, target, new EdmDenoiser(teacherNet),
            new CtmTrainingOptions { DsmWeight = 0, AdaptiveWeights = false });
        using var g = new Generator(4);
        using var x0 = randn(new long[] { 64, 2 }, generator: g);

        var (est, tgt) = loss.EstimateAndTarget(x0, null, g, k: 3);
        Assert.True(est.requires_grad);
        Assert.False(tgt.requires_grad);               // the target side carries no gradient
        est.Dispose(); tgt.Dispose();

        using var r = loss.GeneratorLoss(x0, null, g, withGan: false);
        r.Total.backward();
        // L_CTM alone: the student reaches x_est only through the outer target call's input, so a non-zero
        // gradient proves that path is open (wrapping the outer call in no_grad would give none).
        Assert.Contains(studentNet.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
        Assert.All(targetNet.parameters(), p => Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0));
        Assert.All(teacherNet.parameters(), p => Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0));
    }

    [Theory]
    [InlineData(TeacherMode.Teacher, 1)]
    [InlineData(TeacherMode.Teacher, 5)]
    [InlineData(TeacherMode.SelfTeacher, 3)]
    public void GridConstants_GiveTheSameEstimateTargetAndGradients(TeacherMode mode, int k)
    {
        // The library's own models run the loss on per-grid-index constants (gathered rows, fused teacher Heun); any
        // other ITrajectoryModel takes the per-sample tensor path. Both must give the same x_est, x_tgt and gradients.
        var o = new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 2 };
        using var gw = new Generator(31);
        using var studentNet = new TrajectoryMlp(o, generator: gw);
        using var targetNet = new TrajectoryMlp(o, generator: gw);
        using var teacherNet = new DenoiserMlp(o, generator: gw);
        foreach (var m in new nn.Module[] { studentNet, targetNet, teacherNet }) m.to(ScalarType.Float64);
        foreach (var p in targetNet.parameters().Concat(teacherNet.parameters())) p.requires_grad_(false);
        var options = new CtmOptions { SigmaMax = 10 };
        var loss = new CtmLoss(new CtmTrajectoryModel(studentNet, options), new CtmTrajectoryModel(targetNet, options),
            new EdmDenoiser(teacherNet, options), new CtmTrainingOptions { TeacherMode = mode, GridPoints = 12, MaxTeacherSteps = 6, DsmWeight = 0, AdaptiveWeights = false });
        using var x0 = randn(new long[] { 48, 2 }, dtype: ScalarType.Float64, generator: gw);

        (Tensor Est, Tensor Tgt, Tensor[] Grads) Run(bool onGrid)
        {
            loss.UseGridConstants = onGrid;
            foreach (var p in studentNet.parameters()) p.grad?.zero_();
            using var g = new Generator(8);
            var (est, tgt) = loss.EstimateAndTarget(x0, null, g, k);
            using (var l = est.square().sum()) l.backward();
            return (est.detach(), tgt, studentNet.parameters().Select(p => p.grad!.clone()).ToArray());
        }
        var fast = Run(onGrid: true);
        var general = Run(onGrid: false);
        TensorAssert.Close(general.Est, fast.Est, rtol: 1e-9, atol: 1e-12);
        TensorAssert.Close(general.Tgt, fast.Tgt, rtol: 1e-9, atol: 1e-12);
        Assert.False(fast.Tgt.requires_grad);
        for (int i = 0; i < fast.Grads.Length; i++) TensorAssert.Close(general.Grads[i], fast.Grads[i], rtol: 1e-8, atol: 1e-12);
        Assert.True(fast.Tgt.sub(fast.Est).abs().max().item<double>() > 1e-3, "estimate and target must differ (untrained networks)");
        loss.UseGridConstants = true;
        using (var g = new Generator(9)) for (int i = 0; i < 3; i++) { var (e, t) = loss.EstimateAndTarget(x0, null, g, k); e.Dispose(); t.Dispose(); }
        Assert.Equal(3, loss.GridConstantBuilds);   // built once (student, target, teacher) by the first call, then reused
        loss.Dispose();
        using var g1 = new Generator(1);
        Assert.Throws<ObjectDisposedException>(() => loss.GeneratorLoss(x0, null, g1, withGan: false));
        foreach (var t in new[] { fast.Est, fast.Tgt, general.Est, general.Tgt }.Concat(fast.Grads).Concat(general.Grads)) t.Dispose();
    }

    [Fact]
    public void AdaptiveWeights_AreGradientNormRatios()
    {
        var o = new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 1 };
        using var studentNet = new TrajectoryMlp(o);
        using var targetNet = new TrajectoryMlp(o);
        using var disc = new MlpDiscriminator(2, 16, 2);
        Ema.Copy(targetNet, studentNet);
        foreach (var p in targetNet.parameters()) p.requires_grad_(false);
        var loss = new CtmLoss(new CtmTrajectoryModel(studentNet), new CtmTrajectoryModel(targetNet), null,
            new CtmTrainingOptions { TeacherMode = TeacherMode.SelfTeacher, GanEnabled = true }, lastLayerWeight: studentNet.OutputLayer.weight, discriminator: disc);
        using var g = new Generator(5);
        using var x0 = randn(new long[] { 64, 2 }, generator: g);
        using var r = loss.GeneratorLoss(x0, null, g, withGan: true);
        var b = r.Breakdown;
        Assert.InRange(b.LambdaDsm!.Value, 0, 1e4);
        Assert.InRange(b.LambdaGan!.Value, 0.01, 10);
        Assert.True(b.GanGenerator is double gan && double.IsFinite(gan));
        Assert.Equal(b.Ctm!.Value + b.LambdaDsm.Value * b.Dsm!.Value + b.LambdaGan.Value * b.GanGenerator!.Value, r.Total.item<float>(), 3);
    }

    [Fact]
    public void TimeSampler_RespectsOrdering_AndPkProportionalToK()
    {
        const int N = 18, K = 17, draws = 20_000;
        using var g = new Generator(6);
        var counts = new int[K + 1];
        for (int i = 0; i < draws; i++) counts[CtmTimeSampler.SampleSteps(K, HeunStepStrategy.Weighted, g)]++;
        var p = CtmTimeSampler.StepProbabilities(K, HeunStepStrategy.Weighted);
        double chi2 = Enumerable.Range(1, K).Sum(k => Math.Pow(counts[k] - draws * p[k - 1], 2) / (draws * p[k - 1]));
        _out.WriteLine($"χ² = {chi2:F2} with {K - 1} df");
        Assert.True(chi2 < 39.25, $"χ² = {chi2} exceeds the 0.1% critical value 39.25 (16 df)"); // P(k) ∝ k holds
        Assert.Equal(0, counts[0]);

        for (int k = 1; k <= K; k++)
        {
            var (t, u, s) = CtmTimeSampler.SampleIndices(4096, N, k, g, CPU);
            Assert.True((u - t).eq(k).all().item<bool>());
            Assert.True(t.ge(0).all().item<bool>() && u.le(N - 1).all().item<bool>());
            Assert.True(s.ge(u).all().item<bool>() && s.le(N - 1).all().item<bool>()); // s ≤ u < t in time
            t.Dispose(); u.Dispose(); s.Dispose();
        }
    }

    [Fact]
    public void GanSpecificTime_FixedAtNMinus1_FakesAreOneStepSamples()
    {
        // gan_specific_time with k′ = K′ = N − 1: t′ = σ_max and s′ = σ_min for every sample, so the discriminator's fake is
        // G_θ⁻(G_θ(x_0 + σ_max z, σ_max, σ_min), σ_min, σ_min), the one-step sample. The draws are replayed from a copy of
        // the generator: the fixed k′ takes no randomness, then the n and m draws, then z.
        const int N = 6;
        var o = new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 1 };
        using var studentNet = new TrajectoryMlp(o);
        using var targetNet = new TrajectoryMlp(o);
        foreach (var p in targetNet.parameters()) p.requires_grad_(false);
        var student = new CtmTrajectoryModel(studentNet);
        var target = new CtmTrajectoryModel(targetNet);
        using var spy = new SpyDiscriminator();
        var options = new CtmTrainingOptions
        {
            TeacherMode = TeacherMode.SelfTeacher, GridPoints = N, MaxTeacherSteps = 2, GanEnabled = true, AdaptiveWeights = false,
            GanSpecificTime = true, GanMaxTeacherSteps = N - 1, GanStepStrategy = HeunStepStrategy.Fixed,
        };
        var loss = new CtmLoss(student, target, null, options, discriminator: spy);
        using var gData = new Generator(8);
        using var x0 = randn(new long[] { 32, 2 }, generator: gData);
        using var g = new Generator(9);
        using var replay = new Generator(9);
        using var r = loss.DiscriminatorLoss(x0, null, g);
        Assert.Equal(N - 1, r.Breakdown.K);

        using var n = rand(new long[] { 32 }, dtype: ScalarType.Float64, generator: replay);
        using var m = rand(new long[] { 32 }, dtype: ScalarType.Float64, generator: replay);
        using var z = Sampling.Noise.Normal(x0.shape, x0.dtype, x0.device, replay);
        using var noGrad = no_grad();
        using var xT = x0 + student.SigmaMax * z;
        using var inner = student.Jump(xT, student.SigmaMax, student.SigmaMin);
        using var expected = target.Jump(inner, student.SigmaMin, student.SigmaMin);
        Assert.Equal(2, spy.Inputs.Count); // real, then fake
        Assert.True(spy.Inputs[1].allclose(expected, rtol: 1e-5, atol: 1e-6),
            $"fake differs from the one-step sample by {(spy.Inputs[1] - expected).abs().max().item<float>():E2}");

        Assert.Throws<ArgumentException>("options", () => new CtmTrainingOptions { GridPoints = N, MaxTeacherSteps = 2, GanSpecificTime = true, GanMaxTeacherSteps = N }.Validate());
        Assert.Equal(new[] { 0.0, 0.0, 1.0 }, CtmTimeSampler.StepProbabilities(3, HeunStepStrategy.Fixed));
    }

    private sealed class SpyDiscriminator : nn.Module<Tensor, Tensor>
    {
        public System.Collections.Generic.List<Tensor> Inputs { get; } = new();
        public SpyDiscriminator() : base("spy") { }
        public override Tensor forward(Tensor x)
        {
            Inputs.Add(x.detach().clone().DetachFromDisposeScope());
            return x.sum(1);
        }
        protected override void Dispose(bool disposing)
        {
            foreach (var t in Inputs) t.Dispose();
            base.Dispose(disposing);
        }
    }

    [Fact]
    public void UniformStrategy_IsFlat()
    {
        Assert.All(CtmTimeSampler.StepProbabilities(5, HeunStepStrategy.Uniform), v => Assert.Equal(0.2, v, 12));
        Assert.Equal(new[] { 1 / 15.0, 2 / 15.0, 3 / 15.0, 4 / 15.0, 5 / 15.0 }, CtmTimeSampler.StepProbabilities(5, HeunStepStrategy.Weighted), new DoubleTolerance(1e-12));
    }

    [Fact]
    public void Ema_Arithmetic()
    {
        using var a = nn.Linear(2, 1);
        using var b = nn.Linear(2, 1);
        using (no_grad())
        {
            a.weight!.copy_(tensor(new[] { 1f, 2f }).reshape(1, 2)); a.bias!.fill_(0);
            b.weight!.copy_(tensor(new[] { 3f, -2f }).reshape(1, 2)); b.bias!.fill_(10);
        }
        Ema.Update(a, b, 0.9);
        Assert.Equal(0.9 * 1 + 0.1 * 3, a.weight![0, 0].item<float>(), 5);
        Assert.Equal(0.9 * 2 + 0.1 * -2, a.weight![0, 1].item<float>(), 5);
        Assert.Equal(1.0, a.bias![0].item<float>(), 5);
        Ema.Copy(a, b);
        Assert.Equal(3f, a.weight![0, 0].item<float>());
        using var c = nn.Linear(3, 1);
        Assert.Throws<ArgumentException>(() => Ema.Update(c, b, 0.9));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ema.Update(a, b, 1.0));
    }

    private sealed class DoubleTolerance : System.Collections.Generic.IEqualityComparer<double>
    {
        private readonly double _tol;
        public DoubleTolerance(double tol) => _tol = tol;
        public bool Equals(double x, double y) => Math.Abs(x - y) <= _tol;
        public int GetHashCode(double obj) => 0;
    }
}
