using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Diagnostics;
using Ctm.Core.Sampling;
using Ctm.Core.Schedules;
using Ctm.Core.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Samples;

/// <summary>One row of the 2-D results table: a sampler scored against a reference data set by several measures.</summary>
public sealed record ToyRow(string Sampler, int Nfe, double Swd, ManifoldScores Manifold, SupportScores Support, int ModesHeld, int Modes, double Seconds)
{
    /// <summary>Name used for plot panels.</summary>
    public string Label => Nfe > 0 ? $"{Sampler} (NFE {Nfe})" : Sampler;
}

/// <summary>Scores samplers on 2-D data: SW2, k-NN precision/recall/density/coverage, off-support fraction, mean log p.</summary>
public static class Toy2DEvaluation
{
    /// <summary>Name of the data-vs-data row (the floor of every measure).</summary>
    public const string DataRow = "data (fresh set)";

    /// <summary>
    /// The table: a data-vs-data row first, then the teacher's Euler 1 and Heun 35, CTM γ = 0 with NFE 1, 2, 4, γ = 1
    /// NFE 4 and the CTM used as a score model (Heun 35 on its diagonal). Each row draws <see cref="ToyConfig.SwdSamples"/>
    /// samples in chunks of <see cref="ToyConfig.EvalSamples"/> from one generator: the first chunk gives the k-NN scores,
    /// the plot and the time column; all of them give SW2, off-support, mean log p and the mode count. Returns the first
    /// chunks for plotting (owned).
    /// </summary>
    public static (List<ToyRow> Rows, Dictionary<string, Tensor> Samples) Run(IToyData data, TrainedTeacher? teacher, TrainedCtm ctm, ToyConfig c)
    {
        int n = c.EvalSamples;
        using var scorer = new ToyScorer(data, c);
        var rows = new List<ToyRow>();
        var samples = new Dictionary<string, Tensor>();
        using var noGrad = no_grad();

        void Keep((ToyRow Row, Tensor First) scored)
        {
            rows.Add(scored.Row);
            samples[scored.Row.Label] = scored.First;
        }
        void Add(string name, int nfe, Func<Generator, Tensor> sample) => Keep(scorer.Score(name, nfe, sample));

        Keep(scorer.ScoreData());
        var shape = new long[] { 2 };
        if (teacher is not null)
        {
            var td = teacher.Denoiser;
            Add("teacher Euler", 1, g => new DiffusionSampler(td, shape, EulerSolver.Instance).Sample(n, KarrasSchedule.SamplingGrid(1, td.SigmaMin, td.SigmaMax), generator: g));
            Add("teacher Heun", 35, g => new DiffusionSampler(td, shape).Sample(n, 18, generator: g));
        }
        var model = ctm.Model;
        var gamma = new GammaSampler(model, shape);
        Add("CTM γ=0", 1, g => gamma.Sample(n, 0.0, 1, generator: g));
        Add("CTM γ=0", 2, g => gamma.Sample(n, 0.0, 2, generator: g));
        Add("CTM γ=0", 4, g => gamma.Sample(n, 0.0, 4, generator: g));
        Add("CTM γ=1", 4, g => gamma.Sample(n, 1.0, 4, generator: g));
        Add("CTM-as-score Heun", 35, g => new DiffusionSampler(model, shape).Sample(n, 18, generator: g));
        return (rows, samples);
    }

    /// <summary>Every measure of one sample set <paramref name="x"/> against <paramref name="reference"/>.</summary>
    /// <remarks><paramref name="referenceRadius2"/>: the k-NN radii (<see cref="ManifoldMetrics.KnnRadiusSquared"/>) of the
    /// reference's first <paramref name="knnSamples"/> rows, when one reference scores several sets; null computes them.
    /// The k-NN scores use the first <paramref name="knnSamples"/> rows of both sets (0 = all); SW2, off-support, mean log p
    /// and the mode count use every row. <paramref name="swdReference"/>: the reference prepared for SW2 with directions
    /// from a generator seeded <paramref name="seed"/> + 3000 (the same value as without it, faster for several rows).</remarks>
    public static ToyRow Score(IToyData data, Tensor reference, Tensor x, string name, int nfe, double seconds, ulong seed,
        Tensor? referenceRadius2 = null, int knnSamples = 0, SlicedWassersteinReference? swdReference = null)
    {
        int held = 0;
        if (data.Modes > 0)
        {
            using var mode = data.ModeOf(x);
            using var counts = mode.bincount(null, data.Modes);
            held = counts.data<long>().ToArray().Count(v => v >= 0.5 * x.shape[0] / data.Modes);   // half an equal share
        }
        double swd;
        if (swdReference is not null) swd = swdReference.Distance(x);
        else { using var g = new Generator(seed + 3000); swd = SlicedWasserstein.Distance(reference, x, g, 256); }
        using var r = knnSamples > 0 && knnSamples < reference.shape[0] ? reference.narrow(0, 0, knnSamples) : reference.alias();
        using var f = knnSamples > 0 && knnSamples < x.shape[0] ? x.narrow(0, 0, knnSamples) : x.alias();
        var manifold = referenceRadius2 is null ? ManifoldMetrics.Compute(r, f) : ManifoldMetrics.Compute(r, referenceRadius2, f);
        var support = SupportCheck.Compute(data.LogDensity, x, reference);
        return new ToyRow(name, nfe, swd, manifold, support, held, data.Modes, seconds);
    }

    /// <summary>Prints the table: one line per sampler with every measure.</summary>
    public static void Print(string title, IReadOnlyList<ToyRow> rows, System.IO.TextWriter? output = null)
    {
        var o = output ?? Console.Out;
        o.WriteLine(title);
        o.WriteLine($"  {"sampler",-20} {"NFE",4} {"SW2",7} {"prec",6} {"recall",6} {"dens",6} {"cover",6} {"off-sup",7} {"log p",7} {"modes",6} {"time",7}");
        foreach (var r in rows)
        {
            var m = r.Manifold;
            string modes = r.Modes > 0 ? $"{r.ModesHeld}/{r.Modes}" : "-";
            o.WriteLine($"  {r.Sampler,-20} {(r.Nfe > 0 ? r.Nfe.ToString() : "-"),4} {r.Swd,7:F4} {m.Precision,6:F3} {m.Recall,6:F3} {m.Density,6:F3} " +
                $"{m.Coverage,6:F3} {r.Support.OffSupportFraction,7:F4} {r.Support.MeanLogP,7:F3} {modes,6} {r.Seconds * 1000,5:F0}ms");
        }
        o.WriteLine($"  (SW2: sliced Wasserstein-2, 256 directions; prec/recall/dens/cover: k-NN with k = {ManifoldMetrics.DefaultK}; " +
            $"off-sup: share below the data's 1 % log p quantile; log p: mean true log-density; modes: modes holding ≥ half an equal share)");
    }

    /// <summary>
    /// The quality targets of the 2-D demo (issue 10), as (pass, description) pairs. Teacher Heun 35: precision and
    /// recall ≥ 0.90, off-support ≤ 0.05. CTM γ = 0 NFE 1 and 2: precision ≥ 0.90 and ≥ the teacher's − 0.03, recall ≥ the
    /// teacher's − 0.03, off-support ≤ max(1.5 × the teacher's, 0.05), SW2 ≤ the teacher's; NFE 2 precision ≥ NFE 1's − 0.01.
    /// </summary>
    public static List<(bool Pass, string Text)> Targets(string dataName, IReadOnlyList<ToyRow> rows)
    {
        var heun = rows.Single(r => r.Sampler == "teacher Heun" && r.Nfe == 35);
        var nfe1 = rows.Single(r => r.Sampler == "CTM γ=0" && r.Nfe == 1);
        var nfe2 = rows.Single(r => r.Sampler == "CTM γ=0" && r.Nfe == 2);
        var t = new List<(bool, string)>();
        void Check(bool ok, string text) => t.Add((ok, $"{dataName}: {text}"));
        var hm = heun.Manifold;
        Check(hm.Precision >= 0.90, $"teacher Heun 35 precision {hm.Precision:F3} ≥ 0.90");
        Check(hm.Recall >= 0.90, $"teacher Heun 35 recall {hm.Recall:F3} ≥ 0.90");
        Check(heun.Support.OffSupportFraction <= 0.05, $"teacher Heun 35 off-support {heun.Support.OffSupportFraction:F4} ≤ 0.05");
        double offLimit = Math.Max(1.5 * heun.Support.OffSupportFraction, 0.05);
        foreach (var r in new[] { nfe1, nfe2 })
        {
            string who = $"CTM NFE {r.Nfe}";
            var m = r.Manifold;
            double pLimit = Math.Max(0.90, hm.Precision - 0.03);
            Check(m.Precision >= pLimit, $"{who} precision {m.Precision:F3} ≥ max(0.90, teacher − 0.03) = {pLimit:F3}");
            Check(m.Recall >= hm.Recall - 0.03, $"{who} recall {m.Recall:F3} ≥ teacher − 0.03 = {hm.Recall - 0.03:F3}");
            Check(r.Support.OffSupportFraction <= offLimit, $"{who} off-support {r.Support.OffSupportFraction:F4} ≤ max(1.5 × teacher, 0.05) = {offLimit:F4}");
            Check(r.Swd <= heun.Swd, $"{who} SW2 {r.Swd:F4} ≤ teacher Heun 35 {heun.Swd:F4} (ratio {r.Swd / heun.Swd:F2})");
        }
        Check(nfe2.Manifold.Precision >= nfe1.Manifold.Precision - 0.01,
            $"CTM NFE 2 precision {nfe2.Manifold.Precision:F3} ≥ NFE 1's − 0.01 = {nfe1.Manifold.Precision - 0.01:F3}");
        return t;
    }
}
