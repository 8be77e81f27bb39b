using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Training;
using Ctm.Samples;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks;

/// <summary>
/// Can the GAN's discriminator see the one-step samples that lie between modes? For each law × seed: the demo's teacher
/// and CTM (trained with a discriminator of <c>trainFourier</c> Fourier features, or loaded from the cache), 20,000 CTM
/// NFE-1 samples against 20,000 data points; then discriminators of each design are trained alone (hinge loss, RAdam
/// 2e-3 (0.5, 0.9), batch 256, as in distillation) and scored on all 40,000: mean logit on data, on the fakes on the
/// support and on those off it (below the data's 1 % log-density quantile), and the share of off-support fakes scoring
/// below the median on-support fake (0.5 = blind, 1 = every one seen). docs/results-2d-study.md, twelfth round.
/// </summary>
public static class Toy2DDiscriminatorStudy
{
    private static readonly (string Name, int Features, double Scale)[] Designs =
        { ("raw coordinates", 0, 1.0), ("64 Fourier, scale 1", 64, 1.0), ("64 Fourier, scale 2", 64, 2.0), ("64 Fourier, scale 4", 64, 4.0) };

    /// <summary>Runs the study; one run per law × seed, side by side, one core each.</summary>
    /// <param name="quick">Smoke-run budgets (the demo's --quick models, 300 discriminator steps).</param>
    /// <param name="laws">Law keys or CSV paths.</param>
    /// <param name="seeds">Seeds.</param>
    /// <param name="cacheDir">Trained teachers and CTMs (shared with <c>toy2d-nfe2</c>: the same settings give the same file).</param>
    /// <param name="trainFourier">Fourier features of the discriminator the CTM is distilled with (0 = the demo before the twelfth round).</param>
    public static void Run(bool quick, string[] laws, ulong[] seeds, string cacheDir, int trainFourier)
    {
        var baseCfg = (quick ? ToyConfig.Quick : new ToyConfig()) with { DiscriminatorFourierFeatures = trainFourier };
        var jobs = seeds.SelectMany(seed => laws.Select(law => (Law: law, Cfg: baseCfg with { Seed = seed }))).ToArray();
        int workers = Math.Min(jobs.Length, Environment.ProcessorCount);
        torch.set_num_threads(1);
        Directory.CreateDirectory(cacheDir);
        Console.WriteLine($"Discriminator study — {baseCfg}; {jobs.Length} runs, {workers} side by side, 1 thread each; models cached in {cacheDir}");
        Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = workers }, i =>
        {
            string report = RunOne(jobs[i].Law, jobs[i].Cfg, cacheDir, quick ? 300 : 3000);
            lock (Designs) Console.Write(report);
        });
    }

    private static string RunOne(string law, ToyConfig c, string cacheDir, int steps)
    {
        torch.set_num_threads(1);
        using var data = ToyData.Create(law);
        using var teacher = Toy2DPipeline.TrainTeacher(data, c, cachePath: Toy2DRun.TeacherCachePath(cacheDir, data, c));
        using var ctm = Toy2DNfe2Study.LoadOrTrainCtm(data, teacher, c, Toy2DNfe2Study.CtmCachePath(cacheDir, data, c));
        using var scope = NewDisposeScope();
        using var g = new Generator(c.Seed + 700);
        const int n = 20_000;
        Tensor fake, real, off;
        using (no_grad())
        {
            fake = new GammaSampler(ctm.Model, new long[] { 2 }).Sample(n, 0.0, 1, generator: g);
            real = data.Sample(n, g);
            var reference = data.LogDensity(data.Sample(50_000, g)).to_type(ScalarType.Float64);
            double cut = reference.quantile(tensor(0.01, dtype: ScalarType.Float64)).item<double>();
            off = data.LogDensity(fake).to_type(ScalarType.Float64) < cut;
        }
        var on = off.logical_not();
        var text = new StringBuilder();
        text.AppendLine($"== {data.Name}, seed {c.Seed}: CTM distilled with {(c.DiscriminatorFourierFeatures > 0 ? $"{c.DiscriminatorFourierFeatures} Fourier features" : "raw coordinates")}; " +
            $"{off.to_type(ScalarType.Float32).mean().item<float>():P1} of its NFE-1 samples off the support; {steps} discriminator steps ==");
        text.AppendLine("  discriminator                 data  on-fake off-fake  off below on-median");
        foreach (var (name, features, scale) in Designs)
        {
            using var d = new MlpDiscriminator(2, c.DiscriminatorHidden, 3, generator: new Generator(c.Seed + 701), fourierFeatures: features, fourierScale: scale);
            using var opt = new RectifiedAdam(d.parameters(), c.DiscriminatorLearningRate, beta1: 0.5, beta2: 0.9);
            using var gb = new Generator(c.Seed + 702);
            for (int step = 0; step < steps; step++)
            {
                using var s = NewDisposeScope();
                opt.ZeroGrad();
                var loss = CtmLoss.HingeLoss(d.call(real.index_select(0, randint(0, n, new long[] { 256 }, generator: gb))),
                    d.call(fake.index_select(0, randint(0, n, new long[] { 256 }, generator: gb))));
                loss.backward();
                opt.Step();
            }
            using var noGrad = no_grad();
            using var inner = NewDisposeScope();
            var logits = d.call(fake);
            var onLogits = logits.masked_select(on);
            var offLogits = logits.masked_select(off);
            double below = (offLogits < onLogits.median()).to_type(ScalarType.Float32).mean().item<float>();
            text.AppendLine($"  {name,-26} {d.call(real).mean().item<float>(),7:F3} {onLogits.mean().item<float>(),8:F3} {offLogits.mean().item<float>(),8:F3} {below,10:F3}");
        }
        return text.ToString();
    }
}
