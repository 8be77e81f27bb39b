using System;
using System.Diagnostics;
using System.Linq;
using Ctm.Core.Analytic;
using Ctm.Core.Diagnostics;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// Precision/recall/density/coverage and the off-support fraction on constructed cases with known answers: two samples
/// of one law, a law with one of 8 modes dropped, and 30 % of the mass moved onto the segments between modes.
/// </summary>
[Collection("Torch")]
public class QualityMetricsTests
{
    private const int N = 5000;
    private readonly ITestOutputHelper _out;
    public QualityMetricsTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void TwoSamplesOfOneLawScoreNearOne()
    {
        using var ring = GaussianMixtureModel.Ring(dtype: ScalarType.Float64);
        using var g = new Generator(11);
        using var real = ring.SampleData(N, g);
        using var fake = ring.SampleData(N, g);
        var s = ManifoldMetrics.Compute(real, fake);
        _out.WriteLine(s.ToString());
        // k = 5 in 2-D: the k-NN balls of one sample hold ≈ 97–99 % of another; coverage's expectation is 1 − 2^−k.
        Assert.InRange(s.Precision, 0.95, 1.0);
        Assert.InRange(s.Recall, 0.95, 1.0);
        Assert.InRange(s.Density, 0.93, 1.07);
        Assert.InRange(s.Coverage, 1 - Math.Pow(2, -5) - 0.02, 1.0);
        using var data = ring.SampleData(N, g);
        var sup = SupportCheck.Compute(x => ring.LogDensity(x), fake, data);
        _out.WriteLine(sup.ToString());
        // Binomial(5000, 0.01) plus the quantile's own error: SE ≈ 0.002.
        Assert.InRange(sup.OffSupportFraction, 0.004, 0.016);
        Assert.InRange(sup.MeanLogP - sup.DataMeanLogP, -0.05, 0.05);
    }

    [Fact]
    public void DroppingOneOfEightModesCostsAnEighthOfRecallAndCoverage()
    {
        using var ring = GaussianMixtureModel.Ring(dtype: ScalarType.Float64);
        using var seven = new GaussianMixtureModel(Enumerable.Repeat(1.0, 7).ToArray(), ring.Means.Skip(1).ToArray(),
            Enumerable.Repeat(0.05, 7).ToArray(), dtype: ScalarType.Float64);
        using var g = new Generator(12);
        using var real = ring.SampleData(N, g);
        using var same = ring.SampleData(N, g);
        using var fake = seven.SampleData(N, g);
        var full = ManifoldMetrics.Compute(real, same);
        var s = ManifoldMetrics.Compute(real, fake);
        _out.WriteLine($"same law {full}\n7 modes  {s}");
        Assert.InRange(full.Recall - s.Recall, 0.125 - 0.03, 0.125 + 0.03);
        Assert.InRange(full.Coverage - s.Coverage, 0.125 - 0.03, 0.125 + 0.03);
        // Every generated sample still lies on the real support.
        Assert.InRange(s.Precision, 0.95, 1.0);
        using var data = ring.SampleData(N, g);
        Assert.InRange(SupportCheck.Compute(x => ring.LogDensity(x), fake, data).OffSupportFraction, 0, 0.02);
    }

    [Fact]
    public void MassBetweenModesLowersPrecisionAndDensityAndIsOffSupport()
    {
        using var ring = GaussianMixtureModel.Ring(dtype: ScalarType.Float64);
        using var g = new Generator(13);
        using var real = ring.SampleData(N, g);
        using var same = ring.SampleData(N, g);
        int moved = (int)(0.3 * N);
        using var onRing = ring.SampleData(N - moved, g);
        using var bridges = Segments(ring, moved, g);
        using var fake = cat(new[] { onRing, bridges });
        var full = ManifoldMetrics.Compute(real, same);
        var s = ManifoldMetrics.Compute(real, fake);
        _out.WriteLine($"same law {full}\n30 % on segments {s}");
        // Precision: the moved 30 % leave the support, except where the large balls of the real set's own tail samples
        // reach the segments (Naeem et al.'s point about outliers) — so a drop between 0.2 and 0.3. Density, which counts
        // balls, is the robust one: 0.7 of the same-law value.
        Assert.InRange(full.Precision - s.Precision, 0.2, 0.3 + 0.01);
        Assert.InRange(s.Density, 0.7 * full.Density - 0.04, 0.7 * full.Density + 0.04);
        // The on-ring 70 % still cover every mode.
        Assert.InRange(s.Recall, full.Recall - 0.03, 1.0);
        using var data = ring.SampleData(N, g);
        var sup = SupportCheck.Compute(x => ring.LogDensity(x), fake, data);
        _out.WriteLine(sup.ToString());
        Assert.InRange(sup.OffSupportFraction, 0.3 + 0.7 * 0.01 - 0.02, 0.3 + 0.7 * 0.01 + 0.02);
        Assert.True(sup.MeanLogP < sup.DataMeanLogP - 1, "mass between modes must lower the mean log p by a lot");
    }

    [Fact]
    public void TenThousandPointsScoreInSeconds()
    {
        using var ring = GaussianMixtureModel.Ring(dtype: ScalarType.Float32);
        using var g = new Generator(14);
        using var real = ring.SampleData(10_000, g);
        using var fake = ring.SampleData(10_000, g);
        var sw = Stopwatch.StartNew();
        var s = ManifoldMetrics.Compute(real, fake);
        _out.WriteLine($"{s} in {sw.Elapsed.TotalSeconds:F2} s");
        // Not a timing target (that lives in the benchmark): a generous bound that catches an accidental O(N²) loop in C#.
        Assert.True(sw.Elapsed.TotalSeconds < 60, $"took {sw.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void RadiiAreTheKthNeighbourExcludingTheRowItself()
    {
        // Points on a line at 0, 1, 3, 6, 10: 1st-neighbour distances 1, 1, 2, 3, 4; 2nd: 3, 2, 3, 4, 7.
        using var p = tensor(new double[] { 0, 1, 3, 6, 10 }).reshape(5, 1);
        using var r1 = ManifoldMetrics.KnnRadiusSquared(p, 1, blockRows: 2);
        using var r2 = ManifoldMetrics.KnnRadiusSquared(p, 2, blockRows: 3);
        Assert.Equal(new double[] { 1, 1, 4, 9, 16 }, r1.data<double>().ToArray());
        Assert.Equal(new double[] { 9, 4, 9, 16, 49 }, r2.data<double>().ToArray());
    }

    [Fact]
    public void ExactCountsOnATinyCase()
    {
        // real 0, 1, 2, 3 on a line, k = 1: radii 1, 1, 1, 1. fake 0.5, 1.5, 10: radii 1, 1, 8.5.
        using var real = tensor(new double[] { 0, 1, 2, 3 }).reshape(4, 1);
        using var fake = tensor(new double[] { 0.5, 1.5, 10 }).reshape(3, 1);
        var s = ManifoldMetrics.Compute(real, fake, k: 1);
        Assert.Equal(2.0 / 3, s.Precision, 12);         // 10 lies in no real ball
        Assert.Equal(1.0, s.Recall, 12);                  // the ball of 10 (radius 8.5) reaches every real point
        Assert.Equal((2 + 2) / 3.0, s.Density, 12);       // 0.5 is in the balls of 0 and 1; 1.5 in those of 1 and 2
        Assert.Equal(3.0 / 4, s.Coverage, 12);            // nearest fakes of 0, 1, 2 lie within 1; of 3 (1.5) at 1.5 > 1
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1024)]
    public void BlockedScoresEqualABruteForceCount(int blockRows)
    {
        // Every definition spelled out with plain loops over all pairs (3-D, sizes that blocks do not divide).
        using var g = new Generator(23);
        using var real = randn(new long[] { 301, 3 }, ScalarType.Float64, generator: g);
        using var fake = randn(new long[] { 257, 3 }, ScalarType.Float64, generator: g).mul_(1.3).add_(0.2);
        double[,] R = ToArray(real), F = ToArray(fake);
        const int k = 5;
        double[] rr = KthRadius(R, R, k, self: true), fr = KthRadius(F, F, k, self: true);
        int n = R.GetLength(0), m = F.GetLength(0);
        double inside = 0, balls = 0, recalled = 0, covered = 0;
        for (int j = 0; j < m; j++)
        {
            int c = 0;
            for (int i = 0; i < n; i++) if (D2(F, j, R, i) <= rr[i]) c++;
            inside += c > 0 ? 1 : 0; balls += c;
        }
        for (int i = 0; i < n; i++)
        {
            bool any = false; double nearest = double.PositiveInfinity;
            for (int j = 0; j < m; j++) { double d = D2(F, j, R, i); any |= d <= fr[j]; nearest = Math.Min(nearest, d); }
            recalled += any ? 1 : 0; covered += nearest <= rr[i] ? 1 : 0;
        }
        var s = ManifoldMetrics.Compute(real, fake, k, blockRows);
        Assert.Equal(inside / m, s.Precision, 12);
        Assert.Equal(recalled / n, s.Recall, 12);
        Assert.Equal(balls / (k * (double)m), s.Density, 12);
        Assert.Equal(covered / n, s.Coverage, 12);
        Assert.InRange(s.Precision, 0.05, 0.95);   // the case is not trivial: some samples in, some out
        using var radii = ManifoldMetrics.KnnRadiusSquared(real, k, blockRows);
        var got = radii.data<double>().ToArray();
        for (int i = 0; i < n; i++) Assert.Equal(rr[i], got[i], 9);
    }

    private static double[,] ToArray(Tensor t)
    {
        var v = t.data<double>().ToArray();
        int n = (int)t.shape[0], d = (int)t.shape[1];
        var a = new double[n, d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) a[i, j] = v[i * d + j];
        return a;
    }

    private static double D2(double[,] a, int i, double[,] b, int j)
    {
        double s = 0;
        for (int c = 0; c < a.GetLength(1); c++) { double d = a[i, c] - b[j, c]; s += d * d; }
        return s;
    }

    private static double[] KthRadius(double[,] a, double[,] b, int k, bool self)
    {
        int n = a.GetLength(0);
        var r = new double[n];
        for (int i = 0; i < n; i++)
        {
            var d = Enumerable.Range(0, b.GetLength(0)).Where(j => !(self && j == i)).Select(j => D2(a, i, b, j)).OrderBy(x => x).ToArray();
            r[i] = d[k - 1];
        }
        return r;
    }

    [Fact]
    public void SlicedWasserstein_AOneDimensionalShiftIsExact()
    {
        // In 1-D every direction is ±1, and a set moved by 1 is at W2 = 1 from itself.
        using var a = tensor(new double[] { 0, 1, 2, 5, -3 }).reshape(5, 1);
        using var b = a + 1;
        using var g = new Generator(3);
        Assert.Equal(1.0, SlicedWasserstein.Distance(a, b, g, 16), 12);
    }

    [Fact]
    public void SlicedWasserstein_AShiftIn2DScoresItsLengthOverRootTwo()
    {
        // Shifting by v moves every projection by θ·v, so SW2² = mean over θ of (θ·v)² = |v|²/2 for uniform directions.
        using var g = new Generator(5);
        using var a = randn(new long[] { 2000, 2 }, ScalarType.Float64, generator: g);
        using var v = tensor(new double[] { 0.3, 0.4 });
        using var b = a + v;
        double sw = SlicedWasserstein.Distance(a, b, g, 4096);
        Assert.InRange(sw, 0.5 / Math.Sqrt(2) - 0.01, 0.5 / Math.Sqrt(2) + 0.01);
    }

    [Fact]
    public void SlicedWassersteinReference_ScoresLikeDistanceAndChecksItsInput()
    {
        using var ring = GaussianMixtureModel.Ring(dtype: ScalarType.Float32);
        using var g = new Generator(19);
        using var reference = ring.SampleData(3000, g);
        using var x1 = ring.SampleData(3000, g);
        using var x2 = ring.SampleData(3000, g) * 1.5;
        using var gRef = new Generator(7);
        using var prepared = new SlicedWassersteinReference(reference, gRef, 64);
        Assert.Equal(3000, prepared.Count);
        foreach (var x in new[] { x1, x2 })
        {
            using var gOne = new Generator(7);
            Assert.Equal(SlicedWasserstein.Distance(reference, x, gOne, 64), prepared.Distance(x), 12);
        }
        Assert.True(prepared.Distance(x2) > 2 * prepared.Distance(x1), $"the scaled set must be farther: {prepared.Distance(x2)} vs {prepared.Distance(x1)}");   // the case is not trivial
        using var fewer = x1.narrow(0, 0, 100);
        Assert.Throws<ArgumentException>("points", () => prepared.Distance(fewer));
        using var gBad = new Generator(1);
        Assert.Throws<ArgumentException>("b", () => SlicedWasserstein.Distance(reference, fewer, gBad));
        Assert.Throws<ArgumentOutOfRangeException>("projections", () => new SlicedWassersteinReference(reference, gBad, 0));
        prepared.Dispose();
        Assert.Throws<ObjectDisposedException>(() => prepared.Distance(x1));
    }

    [Fact]
    public void PrecomputedRealRadiiGiveTheSameScores()
    {
        using var ring = GaussianMixtureModel.Ring(dtype: ScalarType.Float64);
        using var g = new Generator(17);
        using var real = ring.SampleData(2000, g);
        using var fake = ring.SampleData(1500, g) * 1.1;
        using var radii = ManifoldMetrics.KnnRadiusSquared(real);
        var direct = ManifoldMetrics.Compute(real, fake);
        var cached = ManifoldMetrics.Compute(real, radii, fake);
        Assert.Equal(direct, cached);
        Assert.True(direct.Precision < 0.9, $"the scaled set should lose precision: {direct}"); // the case is not trivial
        using var wrong = radii.narrow(0, 0, 100);
        Assert.Throws<ArgumentException>("realRadiusSquared", () => ManifoldMetrics.Compute(real, wrong, fake));
        using var negative = -radii;
        Assert.Throws<ArgumentException>("realRadiusSquared", () => ManifoldMetrics.Compute(real, negative, fake));
    }

    [Fact]
    public void BadInputsNameTheArgument()
    {
        using var a = zeros(10, 2);
        using var b = zeros(10, 3);
        using var few = zeros(5, 2);
        using var nan = full(10, 2, double.NaN);
        Assert.Equal("fake", Assert.Throws<ArgumentException>(() => ManifoldMetrics.Compute(a, b)).ParamName);
        Assert.Equal("fake", Assert.Throws<ArgumentException>(() => ManifoldMetrics.Compute(a, few)).ParamName);
        Assert.Equal("real", Assert.Throws<ArgumentException>(() => ManifoldMetrics.Compute(nan, a)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => ManifoldMetrics.Compute(a, a, k: 0)).ParamName);
        using var lp = zeros(10);
        Assert.Equal("quantile", Assert.Throws<ArgumentOutOfRangeException>(() => SupportCheck.FromLogDensities(lp, lp, 1.5)).ParamName);
        Assert.Equal("dataLogP", Assert.Throws<ArgumentException>(() => SupportCheck.FromLogDensities(lp, lp, 0.01)).ParamName);
    }

    /// <summary>n points uniform on the middle half of the segments joining neighbouring ring modes (≥ 3.8 σ from both).</summary>
    private static Tensor Segments(GaussianMixtureModel ring, int n, Generator g)
    {
        using var scope = NewDisposeScope();
        var mu = tensor(ring.Means.SelectMany(m => m).ToArray()).reshape(8, 2);
        var i = randint(0, 8, new long[] { n }, generator: g);
        var a = mu.index_select(0, i);
        var b = mu.index_select(0, (i + 1).remainder(8));
        var t = 0.25 + 0.5 * rand(new long[] { n, 1 }, dtype: ScalarType.Float64, generator: g);
        return (a + t * (b - a)).MoveToOuterDisposeScope();
    }
}
