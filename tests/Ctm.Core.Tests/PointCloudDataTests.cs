using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctm.Samples;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>A user's own 2-D points as a law: CSV reading with errors that name the line, the scaled frame, an exact
/// density that integrates to one and agrees with the sampler, and file names that tell two files apart.</summary>
[Collection("Torch")]
public sealed class PointCloudDataTests
{
    // A ring of radius 7 around (100, −50) in source units: 3,000 points with a little radial jitter.
    private static List<(double X, double Y)> Ring(int n = 3000, double jitter = 0.2, int seed = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            double a = 2 * Math.PI * rng.NextDouble(), r = 7 + jitter * (rng.NextDouble() - 0.5);
            return (100 + r * Math.Cos(a), -50 + r * Math.Sin(a));
        }).ToList();
    }

    [Fact]
    public void ReadsHeaderCommentsAndEverySeparator()
    {
        var points = PointCloudData.Parse(new[]
        {
            "# exported points", "x,y", "1.5,2", "", "-3e-1;4", "5\t6  # a comment", "  7   8  ", "9, 10", "1e5,-0,", "3,4\r",
        });
        Assert.Equal(new (double, double)[] { (1.5, 2), (-0.3, 4), (5, 6), (7, 8), (9, 10), (1e5, 0), (3, 4) }, points);
    }

    [Theory]
    [InlineData("1,2,3", 3)]
    [InlineData("1,two", 3)]
    [InlineData("1,5 2", 3)]
    [InlineData("NaN,1", 3)]
    [InlineData("x,y", 3)]   // a second header, after data
    [InlineData("1,,2", 3)]  // an empty cell is a missing value, not a separator
    [InlineData(",1,2", 3)]  // an index column
    public void ABadLineIsAFormatErrorNamingItsNumber(string bad, int line)
    {
        var e = Assert.Throws<FormatException>(() => PointCloudData.Parse(new[] { "x,y", "0.5,1", bad }, "pts.csv"));
        Assert.Contains($"pts.csv, line {line}", e.Message);
    }

    [Fact]
    public void ScalesIntoTheFrameOfTheShippedLaws()
    {
        using var scope = NewDisposeScope();
        using var data = new PointCloudData(Ring(), "ring7");
        Assert.Equal(3000, data.Count);
        Assert.InRange(data.Center.X, 99.6, 100.4);     // the mean of 3,000 points: sd 0.09
        Assert.InRange(data.Center.Y, -50.4, -49.6);
        using var g = new Generator(3);
        var x = data.Sample(20_000, g);
        // Radius 7 becomes about 1 (the 99th percentile of max(|x|, |y|) is the radius times max |cos|, |sin| ≈ 1).
        var r = x.square().sum(1).sqrt();
        Assert.InRange(r.mean().item<float>(), 0.98, 1.03);
        Assert.InRange(x.mean(new long[] { 0 }).abs().max().item<float>(), 0, 0.03);
        // The 10-NN rule (at least 0.02) gives a kernel about as wide as the ring's band (0.03), far narrower than the
        // ring; an explicit h is kept.
        Assert.InRange(data.Blur, 0.02, 0.05);
        using var given = new PointCloudData(Ring(), "ring7", blur: 0.03);
        Assert.Equal(0.03, given.Blur);
    }

    [Fact]
    public void DensityIntegratesToOneAndMatchesTheSampler()
    {
        using var scope = NewDisposeScope();
        using var data = new PointCloudData(Ring(n: 6000), "ring7");   // more than MaxComponents: a seeded subset are centres
        Assert.Equal(PointCloudData.MaxComponents, data.Components);
        const double step = 0.01;
        var axis = arange(-1.6 + step / 2, 1.6, step, dtype: ScalarType.Float64);
        var grid = stack(meshgrid(new[] { axis, axis }, indexing: "ij"), -1).reshape(-1, 2).to_type(ScalarType.Float32);
        var p = data.LogDensity(grid).exp() * (step * step);
        Assert.InRange(p.sum().item<double>(), 0.99, 1.01);
        double byDensity = p.masked_select(grid[.., 0].gt(0.1)).sum().item<double>();
        using var g = new Generator(11);
        var x = data.Sample(50_000, g);
        double bySamples = x[.., 0].gt(0.1).to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(bySamples - byDensity, -0.012, 0.012);
    }

    [Fact]
    public void LogDensityIsTheKernelSumAtEveryPoint()
    {
        using var scope = NewDisposeScope();
        var pts = Ring(n: 60);
        using var data = new PointCloudData(pts, "small", blur: 0.1);
        var probe = tensor(new float[] { 0f, 0f, 1f, 0f, -0.7f, 0.7f, 3f, 3f }).reshape(4, 2);
        var got = data.LogDensity(probe).data<double>().ToArray();
        var centres = pts.Select(q => ((q.X - data.Center.X) * data.Scale, (q.Y - data.Center.Y) * data.Scale)).ToArray();
        for (int i = 0; i < 4; i++)
        {
            double px = probe[i, 0].item<float>(), py = probe[i, 1].item<float>();
            double sum = centres.Sum(c => Math.Exp(-((px - c.Item1) * (px - c.Item1) + (py - c.Item2) * (py - c.Item2)) / (2 * 0.01)));
            Assert.Equal(Math.Log(sum / (centres.Length * 2 * Math.PI * 0.01)), got[i], 4);   // distances in float32
        }
    }

    [Fact]
    public void ALargeFileKeepsCentresFromEveryPartOfIt()
    {
        // 10,000 rows alternating between two clusters: every 2nd row would keep one cluster only.
        var rows = Enumerable.Range(0, 10_000).Select(i => ((i % 2 == 0 ? -5.0 : 5.0) + 0.01 * (i % 7), 0.01 * (i % 11))).ToList();
        using var scope = NewDisposeScope();
        using var data = new PointCloudData(rows, "two");
        Assert.Equal(PointCloudData.MaxComponents, data.Components);
        using var g = new Generator(4);
        double right = data.Sample(20_000, g)[.., 0].gt(0).to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(right, 0.45, 0.55);
        Assert.Equal(0, data.LogDensity(zeros(0, 2)).shape[0]);   // no points, no values
    }

    [Fact]
    public void BadInputIsNamed()
    {
        Assert.Contains("at least", Assert.Throws<ArgumentException>(() => new PointCloudData(Ring(n: 10))).Message);
        var same = Enumerable.Repeat((1.0, 2.0), 100).ToList();
        Assert.Contains("span no area", Assert.Throws<ArgumentException>(() => new PointCloudData(same)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PointCloudData(Ring(), blur: 0));
        var missing = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.csv");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => PointCloudData.Load(missing)).Message);
        Assert.Contains(missing, ToyData.Problem(missing));
        string few = Path.Combine(Path.GetTempPath(), $"few-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(few, new[] { "1,2", "3,4" });
        try { Assert.Contains(Path.GetFileName(few) + ": A point cloud needs at least", ToyData.Problem(few)); }   // read before any training
        finally { File.Delete(few); }
        Assert.Contains("unknown law 'pinwheel'", ToyData.Problem("pinwheel"));
        Assert.Null(ToyData.Problem("moons"));
    }

    [Fact]
    public void AFileIsALawByItsPathAndItsCacheNameFollowsItsPoints()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"ctm-points-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "my ring.csv");
            File.WriteAllLines(path, Ring().Select(p => FormattableString.Invariant($"{p.X},{p.Y}")).Prepend("x,y"));
            Assert.True(ToyData.IsKnown(path));
            Assert.Null(ToyData.Problem(path));
            string first;
            using (var data = ToyData.Create(path))
            {
                Assert.IsType<PointCloudData>(data);
                Assert.Equal("my ring.csv", data.Key);   // plots are named after the file: no clash with the built-in "ring"
                Assert.Equal(0, data.Modes);
                first = ToyData.CacheKey(data);
                Assert.StartsWith("my ring.csv-", first);
            }
            using (var again = ToyData.Create(path)) Assert.Equal(first, ToyData.CacheKey(again));
            File.WriteAllLines(path, Ring(seed: 2).Select(p => FormattableString.Invariant($"{p.X},{p.Y}")));
            using (var edited = ToyData.Create(path)) Assert.NotEqual(first, ToyData.CacheKey(edited));
            using (var ring = ToyData.Create("ring")) Assert.Equal("ring", ToyData.CacheKey(ring));   // built-in laws keep their cache names
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
