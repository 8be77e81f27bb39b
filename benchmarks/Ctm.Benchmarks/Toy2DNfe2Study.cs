using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Ctm.Core.Sampling;
using Ctm.Core.Schedules;
using Ctm.Samples;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks;

/// <summary>
/// Where NFE 2 should stop in between: for each law × seed, the demo's teacher and CTM (trained, or loaded from
/// <c>--cache</c>), then γ = 0 NFE 2 on the grids [σ_max, σ_i, σ_min] for every interior point σ_i of the training grid
/// (the γ-sampler's default NFE-2 grid is the 3-point Karras grid, whose middle is the training grid's middle point),
/// and the default grid with γ = 0.3, 0.5 (the official sampler's default) and 1. Every row is scored exactly as the
/// demo scores it (same reference, same noise, 50,000 samples), next to the teacher's Heun 35 and CTM NFE 1.
/// </summary>
public static class Toy2DNfe2Study
{
    /// <summary>Runs the study; one run per law × seed, side by side, one core each.</summary>
    /// <param name="quick">Smoke-run budgets.</param>
    /// <param name="laws">Keys of the 2-D laws (<see cref="ToyData.Keys"/>) or paths of CSV files of points.</param>
    /// <param name="seeds">Seeds.</param>
    /// <param name="cacheDir">Trained teachers and CTMs are saved here and reused by a later run with the same settings.</param>
    public static void Run(bool quick, string[] laws, ulong[] seeds, string cacheDir)
    {
        var baseCfg = quick ? ToyConfig.Quick : new ToyConfig();
        var jobs = seeds.SelectMany(seed => laws.Select(law => (Law: law, Cfg: baseCfg with { Seed = seed }))).ToArray();
        int workers = Math.Min(jobs.Length, Environment.ProcessorCount);
        torch.set_num_threads(1);
        Directory.CreateDirectory(cacheDir);
        Console.WriteLine($"NFE-2 intermediate time study — {baseCfg}; {jobs.Length} runs, {workers} side by side, 1 thread each; models cached in {cacheDir}");
        var reports = new string[jobs.Length];
        Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = workers }, i =>
        {
            reports[i] = RunOne(jobs[i].Law, jobs[i].Cfg, cacheDir);
            lock (reports) Console.Write(reports[i]);
        });
    }

    private static string RunOne(string law, ToyConfig c, string cacheDir)
    {
        torch.set_num_threads(1);
        using var data = ToyData.Create(law);
        string ctmPath = CtmCachePath(cacheDir, data, c);
        Console.WriteLine($"{law}, seed {c.Seed}: CTM {ctmPath} ({(File.Exists(ctmPath) ? "cached" : "training it")})");
        using var teacher = Toy2DPipeline.TrainTeacher(data, c, cachePath: Toy2DRun.TeacherCachePath(cacheDir, data, c));
        using var ctm = LoadOrTrainCtm(data, teacher, c, ctmPath);

        int n = c.EvalSamples;
        using var scorer = new ToyScorer(data, c);   // the demo's reference, directions and sampling noise for this seed
        using var noGrad = no_grad();
        var shape = new long[] { 2 };
        ToyRow Score(string name, int nfe, Func<Generator, Tensor> sample)
        {
            var (row, first) = scorer.Score(name, nfe, sample);
            first.Dispose();
            return row;
        }

        var text = new StringBuilder();
        text.AppendLine($"== {data.Name}, seed {c.Seed} ==");
        text.AppendLine("  row                                    SW2  ÷teach   prec recall off-sup   log p");
        var td = teacher.Denoiser;
        var teacherRow = Score("teacher Heun", 35, g => new DiffusionSampler(td, shape).Sample(n, 18, generator: g));
        void Line(string label, ToyRow r) => text.AppendLine(
            $"  {label,-36} {r.Swd,7:F4} {r.Swd / teacherRow.Swd,6:F2}× {r.Manifold.Precision,6:F3} {r.Manifold.Recall,6:F3} {r.Support.OffSupportFraction,7:F4} {r.Support.MeanLogP,7:F3}");
        Line("teacher Heun 35", teacherRow);
        var model = ctm.Model;
        var gamma = new GammaSampler(model, shape);
        Line("CTM γ=0 NFE 1", Score("CTM", 1, g => gamma.Sample(n, 0.0, 1, generator: g)));
        var sigma = KarrasSchedule.Sigmas(c.GridPoints, model.SigmaMin, model.SigmaMax, model.Rho);
        var karras3 = KarrasSchedule.SamplingGrid(2, model.SigmaMin, model.SigmaMax, model.Rho);
        for (int i = 1; i < sigma.Length - 1; i++)
        {
            var grid = new[] { sigma[0], sigma[i], sigma[^1] };
            string mark = Math.Abs(sigma[i] - karras3[1]) < 1e-9 * karras3[1] ? " (default)" : "";
            Line($"γ=0 NFE 2 via σ_{i} = {sigma[i]:G3}{mark}", Score("CTM", 2, g => gamma.Sample(n, 0.0, grid, generator: g)));
        }
        foreach (double gm in new[] { 0.3, 0.5, 1.0 })
            Line($"γ={gm} NFE 2 (default grid)", Score("CTM", 2, g => gamma.Sample(n, gm, 2, generator: g)));
        return text.ToString();
    }

    /// <summary>The cached CTM's file: every setting of the run (the record's text) decides the CTM, so its hash names the
    /// file, and a changed default trains a new model instead of loading a stale one.</summary>
    internal static string CtmCachePath(string cacheDir, IToyData data, ToyConfig c)
    {
        string key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(c.ToString())))[..12];
        return Path.Combine(cacheDir, $"ctm-{ToyData.CacheKey(data)}-s{c.Seed}-{key}.bin");
    }

    internal static TrainedCtm LoadOrTrainCtm(IToyData data, TrainedTeacher teacher, ToyConfig c, string path)
    {
        if (!File.Exists(path))
        {
            var trained = Toy2DPipeline.TrainCtm(data, teacher, c);
            trained.EvalEma.save(path);
            return trained;
        }
        // The networks of a 1-iteration run (no GAN) with the saved evaluation EMA loaded over them.
        var shell = Toy2DPipeline.TrainCtm(data, teacher, c with { CtmSteps = 1, Gan = false, TrajectoryBank = 0 });
        shell.EvalEma.load(path);
        shell.EvalEma.eval();
        return shell;
    }
}
