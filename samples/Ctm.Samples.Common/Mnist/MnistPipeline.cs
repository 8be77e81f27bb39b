using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctm.Core;
using Ctm.Samples.Data;
using Ctm.Core.Diagnostics;
using Ctm.Samples.Imaging;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Samples.Mnist;

/// <summary>Budget and architecture of the MNIST run (class-conditional 16×16 digits).</summary>
public sealed record MnistConfig
{
    public int Size { get; init; } = 16;
    public int ModelChannels { get; init; } = 16;
    public int[] ChannelMult { get; init; } = { 1, 2 };
    public int NumBlocks { get; init; } = 1;
    public int[] AttnResolutions { get; init; } = { 8 };
    public bool Conditional { get; init; } = true;
    public int Batch { get; init; } = 64;
    public int ClassifierEpochs { get; init; } = 15;
    public int TeacherSteps { get; init; } = 4000;
    public double TeacherLearningRate { get; init; } = 1e-3;
    public double TeacherEma { get; init; } = 0.999;
    public int CtmSteps { get; init; } = 4000;
    public double CtmLearningRate { get; init; } = 3e-4;
    public int GridPoints { get; init; } = 18;
    public int MaxTeacherSteps { get; init; } = 10;
    public bool Gan { get; init; } = true;
    public double GanStartFraction { get; init; } = 0.3;
    public double EmaRate { get; init; } = 0.995;
    public int EvalSamples { get; init; } = 2000;
    public int TrainCount { get; init; } = 8000;
    public ulong Seed { get; init; } = 1;
    /// <summary>Score CTM NFE 1 and 2 every this many CTM iterations while training (0: only at the end).</summary>
    public int EvalEvery { get; init; }
    /// <summary>If set, the trained classifier and teacher are saved here and reused by later runs with the same settings.</summary>
    public string? CacheDir { get; init; }

    internal string ClassifierKey => $"classifier-s{Size}-e{ClassifierEpochs}-n{TrainCount}-seed{Seed}.dat";
    internal string TeacherKey => $"teacher-s{Size}-c{ModelChannels}-m{string.Join("_", ChannelMult)}-b{NumBlocks}-a{string.Join("_", AttnResolutions)}" +
        $"-{(Conditional ? "cond" : "uncond")}-bs{Batch}-n{TrainCount}-it{TeacherSteps}-lr{TeacherLearningRate}-ema{TeacherEma}-seed{Seed}.dat";
    internal string CtmKey => $"ctm-{TeacherKey[..^4]}-it{CtmSteps}-lr{CtmLearningRate}-N{GridPoints}-K{MaxTeacherSteps}" +
        $"-gan{(Gan ? GanStartFraction.ToString(System.Globalization.CultureInfo.InvariantCulture) : "off")}-ema{EmaRate}.dat";

    // Records print arrays as "System.Int32[]"; the run log and results.md need the values.
    private bool PrintMembers(System.Text.StringBuilder b)
    {
        b.Append($"Size = {Size}, ModelChannels = {ModelChannels}, ChannelMult = [{string.Join(", ", ChannelMult)}], NumBlocks = {NumBlocks}, ")
         .Append($"AttnResolutions = [{string.Join(", ", AttnResolutions)}], Conditional = {Conditional}, Batch = {Batch}, ")
         .Append($"ClassifierEpochs = {ClassifierEpochs}, TeacherSteps = {TeacherSteps}, TeacherLearningRate = {TeacherLearningRate}, ")
         .Append($"TeacherEma = {TeacherEma}, CtmSteps = {CtmSteps}, CtmLearningRate = {CtmLearningRate}, GridPoints = {GridPoints}, ")
         .Append($"MaxTeacherSteps = {MaxTeacherSteps}, Gan = {Gan}, GanStartFraction = {GanStartFraction}, EmaRate = {EmaRate}, ")
         .Append($"EvalSamples = {EvalSamples}, TrainCount = {TrainCount}, Seed = {Seed}, EvalEvery = {EvalEvery}, CacheDir = {CacheDir ?? "-"}");
        return true;
    }

    /// <summary>A CI smoke run: every stage, tiny budgets.</summary>
    public static MnistConfig Quick => new()
    {
        ModelChannels = 16, ChannelMult = new[] { 1, 2 }, AttnResolutions = Array.Empty<int>(), Batch = 32,
        ClassifierEpochs = 1, TeacherSteps = 40, CtmSteps = 30, MaxTeacherSteps = 6, EvalSamples = 200, TrainCount = 2000,
    };

    public SongUNetConfig Network(bool student) => new()
    {
        ImgResolution = Size, InChannels = 1, OutChannels = 1, LabelDim = Conditional ? 10 : 0,
        ModelChannels = ModelChannels, ChannelMult = ChannelMult, NumBlocks = NumBlocks,
        AttnResolutions = AttnResolutions, Dropout = 0, TrajectoryBranch = student,
    };
}

/// <summary>One sampler's scores: FD and k-NN precision/recall/density/coverage in the classifier's feature space.</summary>
public sealed record MnistRow(string Sampler, int Nfe, double Fd, ManifoldScores Manifold, double ClassAccuracy, double Seconds, string Grid);

/// <summary>Data split, classifier, teacher, CTM and evaluation for the MNIST sample and benchmark.</summary>
public sealed class MnistPipeline : IDisposable
{
    private readonly MnistConfig _c;
    private readonly Action<string> _log;

    public MnistPipeline(MnistConfig config, string packageDir, Action<string> log)
    {
        _c = config;
        _log = log;
        using var all = MnistDigits.LoadNpmPackage(packageDir);
        using var g = new Generator(config.Seed);
        using var perm = randperm(all.Count, generator: g);
        using var x = MnistDigits.ToModelSpace(all.Images, config.Size);
        int nTrain = Math.Min(config.TrainCount, 8000);
        using var trainIdx = perm.narrow(0, 0, nTrain);
        using var testIdx = perm.narrow(0, 8000, 2000);
        Train = new LabelledImages(x.index_select(0, trainIdx), all.Labels.index_select(0, trainIdx));
        Test = new LabelledImages(x.index_select(0, testIdx), all.Labels.index_select(0, testIdx));
        using var cg = new Generator(config.Seed + 11);
        Classifier = new DigitClassifier(config.Size, cg);
    }

    public LabelledImages Train { get; }
    public LabelledImages Test { get; }
    public DigitClassifier Classifier { get; }
    public Tensor? TestFeatures { get; private set; }
    public double ClassifierAccuracy { get; private set; }
    public double DataFd { get; private set; }
    /// <summary>Precision/recall/density/coverage of training digits against the held-out digits: the floor.</summary>
    public ManifoldScores DataManifold { get; private set; }
    /// <summary>FD of the teacher's Heun NFE 35 samples, once <see cref="EvaluateTeacher"/> ran.</summary>
    public double? TeacherFd { get; private set; }

    private string? CachePath(string key) => _c.CacheDir is null ? null : Path.Combine(_c.CacheDir, key);

    /// <summary>Trains the FD feature network on the training split; held-out accuracy on the 2,000 test digits.</summary>
    public void TrainClassifier()
    {
        var sw = Stopwatch.StartNew();
        string? cache = CachePath(_c.ClassifierKey);
        if (cache is not null && File.Exists(cache))
        {
            Classifier.load(cache);
            _log($"  classifier: loaded {cache}");
        }
        else
        {
            using var g = new Generator(_c.Seed + 10);
            Classifier.Train(Train.Images, Train.Labels, _c.ClassifierEpochs, 64, g, (e, l) => _log($"  classifier epoch {e}: loss {l:F4}"));
            if (cache is not null) SaveAtomically(Classifier, cache);
        }
        Classifier.eval();
        ClassifierAccuracy = Classifier.Accuracy(Test.Images, Test.Labels);
        TestFeatures = Classifier.Features(Test.Images);
        // Floor: FD between the training digits and the test digits at the evaluation sample size.
        int n = (int)Math.Min(_c.EvalSamples, Train.Count);
        using var trainFeatures = Classifier.Features(Train.Images.narrow(0, 0, n));
        DataFd = FrechetDistance.Compute(trainFeatures, TestFeatures);
        DataManifold = ManifoldMetrics.Compute(TestFeatures, trainFeatures);
        _log($"  classifier: held-out accuracy {ClassifierAccuracy:P2}, data FD (train vs test digits) {DataFd:F3}, {Describe(DataManifold)} ({sw.Elapsed.TotalSeconds:F0} s)");
    }

    private (Tensor, Tensor?) Batch(Generator g)
    {
        using var idx = randint(0, Train.Count, new long[] { _c.Batch }, generator: g);
        return (Train.Images.index_select(0, idx), _c.Conditional ? Train.Labels.index_select(0, idx) : null);
    }

    private static void SaveAtomically(nn.Module module, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        module.save(path + ".tmp");
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public SongUNet TrainTeacher(out double seconds)
    {
        var ema = new SongUNet(_c.Network(false), new Generator(_c.Seed + 20));
        string? cache = CachePath(_c.TeacherKey);
        if (cache is not null && File.Exists(cache))
        {
            ema.load(cache);
            ema.eval();
            _log($"  teacher: loaded {cache}");
            seconds = 0;
            return ema;
        }
        var raw = new SongUNet(_c.Network(false), new Generator(_c.Seed + 20));
        var sw = Stopwatch.StartNew();
        using (var trainer = new EdmTeacherTrainer(raw.AsDenoiser(), ema.AsDenoiser(),
                   new EdmTrainingOptions { LearningRate = _c.TeacherLearningRate, EmaRate = _c.TeacherEma, Seed = _c.Seed + 21 }))
        {
            trainer.Train(Batch, _c.TeacherSteps, progress: new SyncProgress<EdmTrainingProgress>(p =>
            {
                if (p.Step % Math.Max(1, _c.TeacherSteps / 10) == 0) _log($"  teacher step {p.Step}/{_c.TeacherSteps}: loss {p.Loss:F4} ({sw.Elapsed.TotalSeconds:F0} s)");
            }));
        }
        raw.Dispose();
        ema.eval();
        seconds = sw.Elapsed.TotalSeconds;
        if (cache is not null) SaveAtomically(ema, cache);
        return ema;
    }

    public SongUNet TrainCtm(SongUNet teacher, out double seconds)
    {
        var cfg = _c.Network(true);
        string? cache = CachePath(_c.CtmKey);
        if (cache is not null && File.Exists(cache))
        {
            var cached = new SongUNet(cfg, new Generator(_c.Seed + 30));
            cached.load(cache);
            cached.eval();
            _log($"  CTM: loaded {cache}");
            seconds = 0;
            return cached;
        }
        var student = new SongUNet(cfg, new Generator(_c.Seed + 30));
        using var target = new SongUNet(cfg, new Generator(_c.Seed + 30));
        var evalEma = new SongUNet(cfg, new Generator(_c.Seed + 30));
        using var gd = new Generator(_c.Seed + 32);
        using var disc = _c.Gan ? new ConvDiscriminator(1, _c.Size, 32, generator: gd) : null;
        StudentInitialization.FromTeacher(student, teacher);
        var options = new CtmTrainingOptions
        {
            LearningRate = _c.CtmLearningRate, GridPoints = _c.GridPoints, MaxTeacherSteps = _c.MaxTeacherSteps,
            GanEnabled = _c.Gan, GanStartStep = (long)(_c.CtmSteps * _c.GanStartFraction),
            TargetEmaRate = _c.EmaRate, EvalEmaRate = _c.EmaRate, Seed = _c.Seed + 31,
        };
        var sw = Stopwatch.StartNew();
        long lastLogged = 0, lastScored = 0;
        var (studentModel, targetModel) = (student.AsTrajectoryModel(), target.AsTrajectoryModel());
        using var loss = new CtmLoss(studentModel, targetModel, teacher.AsDenoiser(), options, lastLayerWeight: student.OutputLayerWeight, discriminator: disc);
        using (var trainer = new CtmTrainer(studentModel, targetModel, evalEma.AsTrajectoryModel(), loss, options))
        {
            trainer.Train(Batch, _c.CtmSteps, progress: new SyncProgress<CtmTrainingProgress>(p =>
            {
                // Iterations alternate with discriminator steps once the GAN is on: log the first generator step of each tenth.
                long tenth = Math.Max(1, _c.CtmSteps / 10);
                if (!p.DiscriminatorStep && p.Step / tenth != lastLogged)
                {
                    lastLogged = p.Step / tenth;
                    _log($"  CTM step {p.Step}/{_c.CtmSteps}: CTM {p.Loss.Ctm:F4} DSM {p.Loss.Dsm:F4} GAN {(p.Loss.GanGenerator is double gan ? gan.ToString("F4") : "off")} ({sw.Elapsed.TotalSeconds:F0} s)");
                }
                if (_c.EvalEvery > 0 && !p.DiscriminatorStep && p.Step / _c.EvalEvery != lastScored)
                {
                    lastScored = p.Step / _c.EvalEvery;
                    var rows = EvaluateCtm(evalEma, outDir: null);
                    MnistRow nfe1 = rows[0], nfe2 = rows[1];
                    string Ratio(MnistRow r) => TeacherFd is double t ? $" ({r.Fd / t:F2}× teacher)" : "";
                    _log($"  CTM step {p.Step}: evaluation EMA FD NFE 1 {nfe1.Fd:F3}{Ratio(nfe1)} (precision {nfe1.Manifold.Precision:F3}, recall {nfe1.Manifold.Recall:F3}), " +
                        $"NFE 2 {nfe2.Fd:F3}{Ratio(nfe2)} (precision {nfe2.Manifold.Precision:F3}, recall {nfe2.Manifold.Recall:F3})");
                }
            }));
        }
        student.Dispose();
        evalEma.eval();
        seconds = sw.Elapsed.TotalSeconds;
        if (cache is not null) SaveAtomically(evalEma, cache);
        return evalEma;
    }

    /// <summary>Samples with each sampler, scores FD against the test digits and writes one grid per sampler.</summary>
    public List<MnistRow> Evaluate(SongUNet teacher, SongUNet ctm, string outDir)
    {
        var rows = new List<MnistRow> { EvaluateTeacher(teacher, outDir) };
        rows.AddRange(EvaluateCtm(ctm, outDir));
        return rows;
    }

    /// <summary>The teacher's Heun sampler on EDM's 18-point grid (NFE 35); sets <see cref="TeacherFd"/>.</summary>
    public MnistRow EvaluateTeacher(SongUNet teacher, string outDir)
    {
        var model = teacher.AsDenoiser();
        var row = Score("teacher Heun", 35, (m, lb, g) => new DiffusionSampler(model, new long[] { 1, _c.Size, _c.Size }).Sample(m, 18, lb, g),
            Path.Combine(outDir, "teacher-heun-nfe35.png"));
        TeacherFd = row.Fd;
        using (var real = Test.Images.narrow(0, 0, 100)) PngGrid.Save(real, Path.Combine(outDir, "data.png"), columns: 10, scale: 2);
        return row;
    }

    /// <summary>CTM γ = 0 with NFE 1 and 2; grids only if <paramref name="outDir"/> is given (the learning curve passes null).</summary>
    public List<MnistRow> EvaluateCtm(SongUNet ctm, string? outDir)
    {
        var gamma = new GammaSampler(ctm.AsTrajectoryModel(), new long[] { 1, _c.Size, _c.Size });
        string? Grid(string file) => outDir is null ? null : Path.Combine(outDir, file);
        return new List<MnistRow>
        {
            Score("CTM γ=0", 1, (m, lb, g) => gamma.Sample(m, 0.0, 1, lb, g), Grid("ctm-nfe1.png")),
            Score("CTM γ=0", 2, (m, lb, g) => gamma.Sample(m, 0.0, 2, lb, g), Grid("ctm-nfe2.png")),
        };
    }

    /// <summary>
    /// Scores a sampler: EvalSamples samples (labels 0..9 cycled, so grid column j shows digit j), FD and k-NN scores against
    /// the held-out digits in the classifier's feature space, class accuracy, and a 10×10 grid if a path is given.
    /// </summary>
    /// <param name="name">Sampler name for the row.</param>
    /// <param name="nfe">Its network evaluations per sample.</param>
    /// <param name="sample">(count, labels or null, generator) → samples in [−1, 1] (owned by the caller of Score).</param>
    /// <param name="gridPath">PNG path or null.</param>
    public MnistRow Score(string name, int nfe, Func<int, Tensor?, Generator, Tensor> sample, string? gridPath)
    {
        int n = _c.EvalSamples;
        using var noGrad = no_grad();
        using var labels = _c.Conditional ? arange(n, dtype: ScalarType.Int64) % 10 : null;
        using var g = new Generator(_c.Seed + 40);
        var sw = Stopwatch.StartNew();
        var parts = new List<Tensor>();
        for (int i = 0; i < n; i += 500)
        {
            int m = Math.Min(500, n - i);
            using var lb = labels?.narrow(0, i, m);
            parts.Add(sample(m, lb, g));
        }
        using var x = cat(parts.ToArray(), 0).clamp(-1, 1);
        foreach (var p in parts) p.Dispose();
        double secs = sw.Elapsed.TotalSeconds;
        using var features = Classifier.Features(x);
        double fd = FrechetDistance.Compute(features, TestFeatures!);
        var manifold = ManifoldMetrics.Compute(TestFeatures!, features);
        double acc = labels is null ? double.NaN : Classifier.Accuracy(x, labels);
        if (gridPath is not null)
        {
            using var first = x.narrow(0, 0, Math.Min(100, n));
            PngGrid.Save(first, gridPath, columns: 10, scale: 2);
            _log($"  {name,-22} NFE {nfe,2}: FD {fd,8:F3}, {Describe(manifold)}, class accuracy {acc:P1}, {secs:F1} s → {gridPath}");
        }
        return new MnistRow(name, nfe, fd, manifold, acc, secs, gridPath ?? "");
    }

    /// <summary>"precision 0.91, recall 0.88, density 0.97, coverage 0.90".</summary>
    public static string Describe(ManifoldScores m) =>
        $"precision {m.Precision:F3}, recall {m.Recall:F3}, density {m.Density:F3}, coverage {m.Coverage:F3}";

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
        Classifier.Dispose();
        TestFeatures?.Dispose();
    }
}
