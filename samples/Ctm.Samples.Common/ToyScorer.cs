using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Ctm.Core.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Samples;

/// <summary>
/// The 2-D tables' scoring set-up for one law and seed: the reference data set (<see cref="ToyConfig.SwdSamples"/> fresh
/// points, the first <see cref="ToyConfig.EvalSamples"/> of them with their k-NN radii), the SW2 directions, and each
/// sampler's noise — so every table that scores a sampler for this seed (the demo's, a study's) scores it on the same
/// draws. Build it once per table; it owns its tensors.
/// </summary>
public sealed class ToyScorer : IDisposable
{
    private readonly IToyData _data;
    private readonly ToyConfig _c;
    private readonly Generator _gData;
    private readonly Tensor _referenceKnn, _dataFirst, _reference, _radius2;
    private readonly Generator _gDirections;
    private readonly SlicedWassersteinReference _swd;

    /// <summary>Draws the reference for <paramref name="data"/> with the seed of <paramref name="c"/>.</summary>
    public ToyScorer(IToyData data, ToyConfig c)
    {
        _data = data; _c = c;
        int n = c.EvalSamples;
        _gData = new Generator(c.Seed + 1000);
        _referenceKnn = data.Sample(n, _gData);
        _dataFirst = data.Sample(n, _gData);   // the data row's first chunk: data against other data
        _reference = Extend(_referenceKnn, c.EvalChunks, () => data.Sample(n, _gData));
        _radius2 = ManifoldMetrics.KnnRadiusSquared(_referenceKnn);
        _gDirections = new Generator(c.Seed + 3000);
        _swd = new SlicedWassersteinReference(_reference, _gDirections, 256);   // sorted once for every row
    }

    /// <summary>
    /// Scores a sampler: <see cref="ToyConfig.EvalChunks"/> draws of <paramref name="sample"/> (each <see cref="ToyConfig.EvalSamples"/>
    /// points) from one generator seeded Seed + 2000; the first chunk gives the k-NN scores and the time column (and is
    /// returned, owned by the caller, for plots); all of them give SW2, off-support, mean log p and the mode count.
    /// </summary>
    public (ToyRow Row, Tensor First) Score(string name, int nfe, Func<Generator, Tensor> sample)
    {
        using var g = new Generator(_c.Seed + 2000);
        var sw = Stopwatch.StartNew();
        var first = sample(g);
        try
        {
            double secs = sw.Elapsed.TotalSeconds;
            using var x = Extend(first, _c.EvalChunks, () => sample(g));
            return (Toy2DEvaluation.Score(_data, _reference, x, name, nfe, secs, _c.Seed, _radius2, _c.EvalSamples, _swd), first);
        }
        catch { first.Dispose(); throw; }
    }

    /// <summary>The data-vs-data row (<see cref="Toy2DEvaluation.DataRow"/>): fresh data points scored like a sampler, the floor of every measure.</summary>
    public (ToyRow Row, Tensor First) ScoreData()
    {
        int draws = 0;
        return Score(Toy2DEvaluation.DataRow, 0, _ => draws++ == 0 ? _dataFirst.alias() : _data.Sample(_c.EvalSamples, _gData));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _swd.Dispose(); _gDirections.Dispose(); _radius2.Dispose(); _reference.Dispose();
        _dataFirst.Dispose(); _referenceKnn.Dispose(); _gData.Dispose();
    }

    /// <summary><paramref name="first"/> followed by <paramref name="chunks"/> − 1 more draws of <paramref name="next"/>, as a new tensor (the inputs stay the caller's).</summary>
    private static Tensor Extend(Tensor first, int chunks, Func<Tensor> next)
    {
        if (chunks <= 1) return first.alias();
        var parts = new List<Tensor> { first };
        try
        {
            for (int i = 1; i < chunks; i++) parts.Add(next());
            return cat(parts.ToArray());
        }
        finally { foreach (var p in parts.Skip(1)) p.Dispose(); }
    }
}
