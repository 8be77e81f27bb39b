using System;
using System.IO;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Analytic;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Samples;

/// <summary>A 2-D data law with sampling and an exact log-density.</summary>
public interface IToyData : IDisposable
{
    /// <summary>Name for tables.</summary>
    string Name { get; }

    /// <summary>Short key for file names and log prefixes ("ring", "checkerboard").</summary>
    string Key { get; }

    /// <summary>n samples, float32 [n, 2].</summary>
    Tensor Sample(int n, Generator generator);

    /// <summary>Exact log-density of each point, float64 [n].</summary>
    Tensor LogDensity(Tensor x);

    /// <summary>Number of modes (0 if the notion does not apply).</summary>
    int Modes { get; }

    /// <summary>Mode index of each point (nearest mode), int64 [n]; only when <see cref="Modes"/> &gt; 0.</summary>
    Tensor ModeOf(Tensor x);
}

/// <summary>The 2-D laws by their <see cref="IToyData.Key"/>, for hosts and tests that pick one by name.</summary>
public static class ToyData
{
    private static readonly (string Key, Func<IToyData> Make)[] Laws =
    {
        ("ring", () => new RingData()),
        ("checkerboard", () => new CheckerboardData()),
        ("grid", () => new GridData()),
        ("swissroll", () => new SwissRollData()),
        ("moons", () => new MoonsData()),
        ("circles", () => new CirclesData()),
    };

    /// <summary>Every law's key: the two shipped sets, then the laws the demo's settings were not tuned on.</summary>
    public static IReadOnlyList<string> Keys { get; } = Laws.Select(l => l.Key).ToArray();

    /// <summary>A new instance of the law with key <paramref name="key"/>, or of the points of a CSV file when
    /// <paramref name="key"/> is a path ending in ".csv" (<see cref="PointCloudData"/>); the caller disposes it.</summary>
    public static IToyData Create(string key)
    {
        if (key is null) throw new ArgumentNullException(nameof(key));
        foreach (var (k, make) in Laws) if (k == key) return make();
        if (IsPointFile(key)) return PointCloudData.Load(key);
        throw new ArgumentException($"Unknown 2-D law '{key}'; use one of: {string.Join(", ", Keys)}, or the path of a CSV file of points (x, y).", nameof(key));
    }

    /// <summary>Whether <paramref name="key"/> names a law: one of <see cref="Keys"/> or a path ending in ".csv".</summary>
    public static bool IsKnown(string key) => Keys.Contains(key) || IsPointFile(key);

    /// <summary>What is wrong with <paramref name="key"/> as a law, for a command line's error; null if nothing. A point
    /// file is read here, so a bad line, too few points or points without spread are reported before any training.</summary>
    public static string? Problem(string key)
    {
        if (Keys.Contains(key)) return null;
        if (!IsPointFile(key))
            return $"unknown law '{key}'; use one of: {string.Join(", ", Keys)}, or the path of a file of points (x, y) whose name ends in .csv";
        if (!File.Exists(key)) return $"no file of points at '{Path.GetFullPath(key)}' (a relative path is taken from {Environment.CurrentDirectory})";
        try { PointCloudData.Load(key).Dispose(); return null; }
        catch (Exception e) when (e is FormatException or ArgumentException or IOException or UnauthorizedAccessException) { return e.Message; }
    }

    /// <summary>A name for cache files of models trained on <paramref name="data"/>: its key, and for a point file also a
    /// fingerprint of its points (an edited file with the same name gets new models).</summary>
    public static string CacheKey(IToyData data) => data is PointCloudData cloud ? $"{cloud.Key}-{cloud.Fingerprint}" : data.Key;

    private static bool IsPointFile(string key) => key.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A Gaussian mixture as a 2-D data law: its samples, its exact log-density, each point's most responsible mode. A law
/// drawn as many small components along curves can group them (<c>groupOf</c>: component → mode), so that each curve
/// counts as one mode.
/// </summary>
public abstract class MixtureToyData : IToyData
{
    private readonly GaussianMixtureModel _m;
    private readonly Tensor? _groupOf;
    private protected MixtureToyData(GaussianMixtureModel model, int modes, long[]? groupOf = null)
    {
        _m = model; Modes = modes;
        // Owned by this law (disposed with it), not by whatever dispose scope the caller builds it in.
        _groupOf = groupOf is null ? null : tensor(groupOf, dtype: ScalarType.Int64).DetachFromDisposeScope();
    }
    /// <summary>A law drawn along curves: <paramref name="perCurve"/> equal components of blur <paramref name="blur"/> on
    /// each curve, the i-th of curve c at <c>curves[c](i)</c>; each curve is one mode.</summary>
    private protected MixtureToyData(double blur, int perCurve, params Func<int, double[]>[] curves)
        : this(Equal(curves.SelectMany(at => Enumerable.Range(0, perCurve).Select(at)).ToArray(), blur), curves.Length,
               Enumerable.Range(0, curves.Length * perCurve).Select(i => (long)(i / perCurve)).ToArray()) { }

    /// <summary>Equal-weight components of one standard deviation <paramref name="blur"/> at <paramref name="means"/>.</summary>
    private protected static GaussianMixtureModel Equal(double[][] means, double blur)
        => new(Enumerable.Repeat(1.0 / means.Length, means.Length).ToArray(), means, Enumerable.Repeat(blur, means.Length).ToArray(), dtype: ScalarType.Float32);

    public abstract string Name { get; }
    public abstract string Key { get; }
    public int Modes { get; }
    public Tensor Sample(int n, Generator generator) => _m.SampleData(n, generator);
    public Tensor LogDensity(Tensor x) => _m.LogDensity(x);
    public Tensor ModeOf(Tensor x)
    {
        if (Modes == 0) throw new NotSupportedException($"{Name} is a continuous curve, not a set of discrete modes.");
        using var r = _m.Responsibilities(x);
        if (_groupOf is null) return r.argmax(1);
        using var component = r.argmax(1);
        return _groupOf.index_select(0, component);
    }
    public void Dispose() { _m.Dispose(); _groupOf?.Dispose(); }
}

/// <summary>8 Gaussians (σ = 0.05) on a circle of radius 1.</summary>
public sealed class RingData : MixtureToyData
{
    public RingData() : base(GaussianMixtureModel.Ring(8, 1.0, 0.05, dtype: ScalarType.Float32), 8) { }
    public override string Name => "8 Gaussians (ring)";
    public override string Key => "ring";
}

/// <summary>
/// 25 Gaussians (σ = 0.05) on a 5×5 grid with spacing 0.5 over [−1, 1]², equal weights: a set the demo's settings were
/// not tuned on (many more, closer modes than the ring), for checking that they carry over.
/// </summary>
public sealed class GridData : MixtureToyData
{
    public GridData() : base(Build(), 25) { }
    public override string Name => "25 Gaussians (grid)";
    public override string Key => "grid";

    private static GaussianMixtureModel Build()
    {
        var means = new double[25][];
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) means[5 * i + j] = new[] { -1.0 + 0.5 * i, -1.0 + 0.5 * j };
        return Equal(means, 0.05);
    }
}

/// <summary>
/// A swiss roll: the curve (θ cos θ, θ sin θ)/(4.5π) for θ ∈ [1.5π, 4.5π] (radius 1/3 to 1, arms 0.44 apart), blurred by
/// N(0, 0.04²I); as a mixture of 400 Gaussians evenly spaced in θ (as scikit-learn's make_swiss_roll draws θ), which gives
/// it an exact density. A second set the demo's settings were not tuned on: a thin curved support instead of blobs.
/// </summary>
public sealed class SwissRollData : MixtureToyData
{
    private const int Components = 400;
    public SwissRollData() : base(Build(), 0) { }
    public override string Name => "swiss roll";
    public override string Key => "swissroll";

    private static GaussianMixtureModel Build()
    {
        var means = new double[Components][];
        for (int i = 0; i < Components; i++)
        {
            double theta = Math.PI * (1.5 + 3.0 * (i + 0.5) / Components);
            means[i] = new[] { theta * Math.Cos(theta) / (4.5 * Math.PI), theta * Math.Sin(theta) / (4.5 * Math.PI) };
        }
        return Equal(means, 0.04);
    }
}

/// <summary>
/// Two interleaved moons (scikit-learn's make_moons: the arcs (cos θ, sin θ) and (1 − cos θ, 0.5 − sin θ), θ ∈ [0, π]),
/// centred and scaled by 1/1.5 into [−1, 1] × [−0.5, 0.5] (arcs of radius 2/3, 0.33 apart at their closest), blurred by
/// N(0, 0.04²I); half the mass on each moon, as a mixture of 200 Gaussians per arc evenly spaced in θ, which gives it an
/// exact density. Not tuned on: two thin, curved, interlocking supports; each moon counts as one mode.
/// </summary>
public sealed class MoonsData : MixtureToyData
{
    private const int PerArc = 200;
    public MoonsData() : base(0.04, PerArc, i => Arc(i, 1), i => Arc(i, -1)) { }
    public override string Name => "two moons";
    public override string Key => "moons";

    // The upper moon's i-th point; the lower moon is its reflection through the origin.
    private static double[] Arc(int i, double sign)
    {
        double theta = Math.PI * (i + 0.5) / PerArc;
        return new[] { sign * (Math.Cos(theta) - 0.5) / 1.5, sign * (Math.Sin(theta) - 0.25) / 1.5 };
    }
}

/// <summary>
/// Two concentric circles (scikit-learn's make_circles with factor 0.5: radii 1 and 0.5, half the mass on each), blurred
/// by N(0, 0.04²I); as a mixture of 240 Gaussians per circle evenly spaced in angle, which gives it an exact density. Not
/// tuned on: one support nested inside the other, with an empty disc in the middle; each circle counts as one mode.
/// </summary>
public sealed class CirclesData : MixtureToyData
{
    private const int PerCircle = 240;
    public CirclesData() : base(0.04, PerCircle, i => Circle(i, 1.0), i => Circle(i, 0.5)) { }
    public override string Name => "two circles";
    public override string Key => "circles";

    private static double[] Circle(int i, double radius)
    {
        double phi = 2 * Math.PI * i / PerCircle;
        return new[] { radius * Math.Cos(phi), radius * Math.Sin(phi) };
    }
}

/// <summary>
/// A 4×4 checkerboard on [−1, 1]² (uniform on the 8 dark squares) blurred by N(0, 0.03²I), which gives it the exact
/// density p(x) = (1/8)·Σ_squares Π_d [Φ((b_d − x_d)/σ) − Φ((a_d − x_d)/σ)]/(0.5·0.5).
/// </summary>
public sealed class CheckerboardData : IToyData
{
    private const double Blur = 0.03, Side = 0.5;
    public string Name => "checkerboard";
    public string Key => "checkerboard";
    public int Modes => 0;

    public Tensor Sample(int n, Generator generator)
    {
        using var scope = NewDisposeScope();
        var u = rand(new long[] { n, 2 }, dtype: ScalarType.Float64, generator: generator);
        var cell = (rand(new long[] { n }, dtype: ScalarType.Float64, generator: generator) * 8).floor(); // 0..7 dark squares
        var row = (cell / 2).floor();                                                                      // 0..3
        var col = 2 * (cell - 2 * row) + (row % 2);                                                        // dark: (row + col) even
        var x = -1 + Side * (torch.stack(new[] { col, row }, 1) + u);
        var z = randn(new long[] { n, 2 }, dtype: ScalarType.Float64, generator: generator);
        return (x + Blur * z).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public Tensor LogDensity(Tensor x)
    {
        using var scope = NewDisposeScope();
        var p = x.to_type(ScalarType.Float64);
        var total = zeros(x.shape[0], dtype: ScalarType.Float64);
        for (int row = 0; row < 4; row++)
            for (int col = 0; col < 4; col++)
            {
                if ((row + col) % 2 != 0) continue;
                double ax = -1 + Side * col, ay = -1 + Side * row;
                total = total + Mass(p[.., 0], ax, ax + Side) * Mass(p[.., 1], ay, ay + Side);
            }
        return (total / (8 * Side * Side)).clamp_min(1e-300).log().MoveToOuterDisposeScope();
    }

    public Tensor ModeOf(Tensor x) => throw new NotSupportedException("The checkerboard has no discrete modes.");

    private static Tensor Mass(Tensor v, double a, double b)
        => 0.5 * (((b - v) / (Blur * Math.Sqrt(2))).erf() - ((a - v) / (Blur * Math.Sqrt(2))).erf());

    public void Dispose() { }
}
