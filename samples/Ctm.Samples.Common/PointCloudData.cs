using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Samples;

/// <summary>
/// Your own 2-D data as a law the demo can train on and score exactly: the points of a CSV file, centred and scaled into
/// the frame of the shipped laws (99 % of the points inside [−1, 1]²), each the centre of an equal Gaussian of standard
/// deviation h (a kernel density estimate). That law has an exact density, so every measure of the demo's table applies:
/// SW2, precision/recall/density/coverage against fresh draws, the off-support fraction and the mean log p.
/// </summary>
/// <remarks>
/// h defaults to the median distance from a centre to its 10th nearest other centre, at least 0.02 (1 % of the frame's
/// width): small enough to keep thin structures (a pinwheel's arms, 0.03 wide, come out at 0.02), large enough that
/// neighbouring kernels overlap, so that the law is a smooth density where the points are dense and not a field of
/// separate bumps (with the 5th neighbour, h = 0.011 on the pinwheel, a smooth sample lands between bumps and counts as
/// off the support). Files with more than
/// <see cref="MaxComponents"/> points keep <see cref="MaxComponents"/> rows drawn by a seeded shuffle as centres (the
/// density is summed over every centre for each scored point). Give a few thousand points: with a few hundred the law is a set of
/// separate bumps, which is what the models then learn.
/// </remarks>
public sealed class PointCloudData : IToyData
{
    /// <summary>The most points kept as kernel centres.</summary>
    public const int MaxComponents = 5_000;

    /// <summary>The fewest points a file must have.</summary>
    public const int MinPoints = 50;

    private readonly Tensor _mu;      // float64 [K, 2], in the scaled frame
    private readonly Tensor _mu32;    // the same in float32, for the log-density's [chunk, K] distances
    private readonly double _h;

    /// <summary>A law from points already in memory (rows of two coordinates), centred and scaled as a file's would be.</summary>
    /// <param name="points">At least <see cref="MinPoints"/> rows (x, y), finite.</param>
    /// <param name="key">Key for file names and log prefixes (<see cref="Load"/> gives the file's name, "points.csv").</param>
    /// <param name="blur">Kernel standard deviation h in the scaled frame; null = the 10-NN rule.</param>
    public PointCloudData(IReadOnlyList<(double X, double Y)> points, string key = "points", double? blur = null)
    {
        if (points is null) throw new ArgumentNullException(nameof(points));
        if (points.Count < MinPoints)
            throw new ArgumentException($"A point cloud needs at least {MinPoints} points, got {points.Count}; give a few thousand for a smooth law.", nameof(points));
        if (points.Any(p => !double.IsFinite(p.X) || !double.IsFinite(p.Y)))
            throw new ArgumentException("Every coordinate must be finite (no NaN or ∞).", nameof(points));
        if (blur is { } b && !(b > 0 && double.IsFinite(b)))
            throw new ArgumentOutOfRangeException(nameof(blur), blur, "The kernel width h must be finite and > 0 (it is in the scaled frame, where the data span about [−1, 1]).");
        Key = string.IsNullOrWhiteSpace(key) ? "points" : key;
        Count = points.Count;
        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        var radius = points.Select(p => Math.Max(Math.Abs(p.X - mx), Math.Abs(p.Y - my))).OrderBy(r => r).ToArray();
        double r99 = radius[(int)Math.Min(radius.Length - 1, Math.Ceiling(0.99 * radius.Length) - 1)];
        if (!(r99 > 0)) throw new ArgumentException("The points span no area (99 % of them coincide with their mean); a 2-D law needs spread.", nameof(points));
        Scale = 1.0 / r99;
        Center = (mx, my);
        var kept = Centres(points.Count).Select(i => points[i]).SelectMany(p => new[] { (p.X - mx) * Scale, (p.Y - my) * Scale }).ToArray();
        _mu = tensor(kept, dtype: ScalarType.Float64).reshape(-1, 2).DetachFromDisposeScope();
        _mu32 = _mu.to_type(ScalarType.Float32).DetachFromDisposeScope();
        _h = blur ?? DefaultBlur(_mu);
        Name = FormattableString.Invariant($"{Key} ({Count} points, h = {_h:G3})");
        var bytes = kept.Append(_h).SelectMany(BitConverter.GetBytes).ToArray();
        Fingerprint = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..12];
    }

    /// <summary>Reads a CSV file of 2-D points: one point per line as two numbers (x, y) separated by a comma, a
    /// semicolon, a tab or spaces, '.' as the decimal point; an optional first line of column names; '#' starts a comment.</summary>
    /// <param name="path">The file; its name (without extension) is the law's <see cref="Key"/>.</param>
    /// <param name="blur">Kernel standard deviation h in the scaled frame; null = the 10-NN rule.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FormatException">A line that is not two numbers (the message names its line number).</exception>
    /// <exception cref="ArgumentException">Fewer than <see cref="MinPoints"/> points, points without spread, or an invalid
    /// <paramref name="blur"/> (the message names the file).</exception>
    public static PointCloudData Load(string path, double? blur = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("Give the path of a CSV file of 2-D points.", nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"No 2-D point file at '{Path.GetFullPath(path)}'.", path);
        var points = Parse(File.ReadLines(path), Path.GetFileName(path));
        try { return new PointCloudData(points, Path.GetFileName(path), blur); }
        catch (ArgumentException e) { throw new ArgumentException($"{Path.GetFileName(path)}: {e.Message}", nameof(path), e); }
    }

    /// <summary>The points of CSV lines (see <see cref="Load"/>); <paramref name="source"/> names them in errors.</summary>
    public static List<(double X, double Y)> Parse(IEnumerable<string> lines, string source = "input")
    {
        var points = new List<(double, double)>();
        int number = 0;
        bool sawData = false;
        foreach (var raw in lines)
        {
            number++;
            int hash = raw.IndexOf('#');
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0) continue;
            // Cells between ',' ';' or tabs are kept even when empty ("1,,2" is an error, not the point (1, 2)); one
            // trailing separator is allowed; without such separators, runs of spaces separate.
            var cells = line.IndexOfAny(new[] { ',', ';', '\t' }) >= 0
                ? line.Split(new[] { ',', ';', '\t' }, StringSplitOptions.TrimEntries)
                : line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (cells.Length > 1 && cells[^1].Length == 0) cells = cells[..^1];
            bool numeric = cells.Length == 2 && cells.All(c => double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            if (!numeric)
            {
                if (!sawData && cells.All(c => c.Length > 0 && !double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
                {
                    sawData = true;   // the header: column names, no number
                    continue;
                }
                throw new FormatException($"{source}, line {number}: expected two numbers (x, y) separated by a comma, semicolon, tab or spaces, " +
                    $"with '.' as the decimal point; got '{raw.Trim()}'.");
            }
            sawData = true;
            double x = double.Parse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture);
            double y = double.Parse(cells[1], NumberStyles.Float, CultureInfo.InvariantCulture);
            if (!double.IsFinite(x) || !double.IsFinite(y))
                throw new FormatException($"{source}, line {number}: the point ({cells[0]}, {cells[1]}) is not finite; remove NaN and ∞ rows.");
            points.Add((x, y));
        }
        return points;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Key { get; }

    /// <summary>Points in the source (before keeping at most <see cref="MaxComponents"/> as centres).</summary>
    public int Count { get; }

    /// <summary>12 hex digits of a hash of the centres and h: tells two files of one name apart in cache file names.</summary>
    public string Fingerprint { get; }

    /// <summary>Kernel centres.</summary>
    public int Components => (int)_mu.shape[0];

    /// <summary>The kernel standard deviation h, in the scaled frame.</summary>
    public double Blur => _h;

    /// <summary>The source's mean, subtracted before scaling.</summary>
    public (double X, double Y) Center { get; }

    /// <summary>Factor from source units to the scaled frame (the 99th percentile of max(|x|, |y|) about the mean becomes 1).</summary>
    public double Scale { get; }

    /// <inheritdoc />
    public int Modes => 0;

    /// <inheritdoc />
    public Tensor Sample(int n, Generator generator)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be at least 1.");
        using var scope = NewDisposeScope();
        var k = randint(_mu.shape[0], new long[] { n }, dtype: ScalarType.Int64, generator: generator);
        var z = randn(new long[] { n, 2 }, dtype: ScalarType.Float64, generator: generator);
        return (_mu.index_select(0, k) + _h * z).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor LogDensity(Tensor x)
    {
        if (x is null) throw new ArgumentNullException(nameof(x));
        if (x.dim() != 2 || x.shape[1] != 2) throw new ArgumentException($"Expected points [n, 2], got [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = NewDisposeScope();
        if (x.shape[0] == 0) return empty(0, dtype: ScalarType.Float64, device: x.device).MoveToOuterDisposeScope();
        var p = x.to_type(ScalarType.Float32).cpu();
        double logNorm = -Math.Log(_mu.shape[0]) - Math.Log(2 * Math.PI * _h * _h);
        var parts = new List<Tensor>();
        const long chunk = 2048;   // [chunk, K] float32: 40 MB at K = 5,000, freed chunk by chunk
        for (long start = 0; start < p.shape[0]; start += chunk)
        {
            using var perChunk = NewDisposeScope();   // the [chunk, K] intermediates go at once, not at the end of the call
            var q = p.narrow(0, start, Math.Min(chunk, p.shape[0] - start));
            // float32 differences, not the |x|² − 2x·μ + |μ|² expansion: the nearest kernels, which make up the density,
            // get d² to float32's relative precision (the expansion's error is absolute, ~5·10⁻⁶, i.e. 10⁻³ of log p at h = 0.02)
            var a = cdist(q, _mu32, 2, compute_mode.donot_use_mm_for_euclid_dist).pow_(2) * (float)(-0.5 / (_h * _h));
            var m = a.amax(new long[] { 1 }, keepdim: true);
            // log Σ_k e^{a_k}: kernels below e^−50 of the nearest one change the sum by less than K·e^−50 ≈ 10^−18 of it, so
            // they are clamped there (exp deep into underflow is slow: 50,000 points against 5,000 centres took 14.8 s with
            // float64 and logsumexp, 4.9 s like this).
            parts.Add(((a - m).clamp_min_(-50).exp_().sum(1, type: ScalarType.Float64).log_() + m.squeeze(1) + logNorm).MoveToOuterDisposeScope());
        }
        return cat(parts, 0).to(x.device).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor ModeOf(Tensor x) => throw new NotSupportedException("A point cloud has no discrete modes (its Modes is 0).");

    /// <inheritdoc />
    public void Dispose() { _mu.Dispose(); _mu32.Dispose(); }

    // Which rows are centres: all of them up to MaxComponents, else MaxComponents rows drawn without replacement by a
    // seeded shuffle (every k-th row would keep a single class of a file whose rows cycle through k classes), in file order.
    private static IEnumerable<int> Centres(int n)
    {
        if (n <= MaxComponents) return Enumerable.Range(0, n);
        var rows = Enumerable.Range(0, n).ToArray();
        var rng = new Random(20261207);
        for (int i = 0; i < MaxComponents; i++)
        {
            int j = rng.Next(i, n);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }
        return rows.Take(MaxComponents).Order();
    }

    // The median distance from a centre to its 10th nearest other centre, at least 0.02 (rows in chunks: [1024, K] at a time).
    private static double DefaultBlur(Tensor mu)
    {
        using var scope = NewDisposeScope();
        long n = mu.shape[0], k = Math.Min(10, n - 1);
        var kth = new List<Tensor>();
        for (long start = 0; start < n; start += 1024)
        {
            using var perChunk = NewDisposeScope();
            var d = cdist(mu.narrow(0, start, Math.Min(1024, n - start)), mu);
            kth.Add(d.topk((int)k + 1, dim: 1, largest: false).values[.., (int)k].MoveToOuterDisposeScope());   // column 0 is the point itself
        }
        return Math.Max(0.02, cat(kth, 0).median().item<double>());
    }
}
