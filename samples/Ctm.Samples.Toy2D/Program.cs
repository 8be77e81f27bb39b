// 2-D end to end: train an EDM teacher, distil a CTM (CTM + DSM + GAN), compare samplers in one table, write plots.
//
//   dotnet run --project samples/Ctm.Samples.Toy2D -c Release -- [--dataset ring|checkerboard|both] [--quick]
//        [--teacher-steps N] [--ctm-steps N] [--no-gan] [--no-dsm] [--self-teacher] [--seed S] [--out DIR]
//        [--batch B] [--ctm-lr LR] [--gan-start FRACTION] [--target-ema MU] [--eval-ema MU] [--threads T] [--reuse-teacher]
//   --help lists every option with its default; an unknown option is an error.
using System;
using System.CommandLine;
using System.Diagnostics;
using System.Linq;
using Ctm.Core.Training;
using Ctm.Samples;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

var defaults = new ToyConfig();
var dataset = SampleConsole.Option("--dataset", "Data set: ring, checkerboard or both.", "both");
dataset.AcceptOnlyFromAmong("ring", "checkerboard", "both");
var quick = SampleConsole.Flag("--quick", "Smoke run: 600 teacher and 300 CTM iterations, 4,000 evaluation samples.");
var teacherSteps = SampleConsole.Optional<int>("--teacher-steps", $"Teacher iterations [default: {defaults.TeacherSteps}, 600 with --quick].");
var ctmSteps = SampleConsole.Optional<int>("--ctm-steps", $"CTM iterations [default: {defaults.CtmSteps}, 300 with --quick].");
var noGan = SampleConsole.Flag("--no-gan", "Distil without the GAN term.");
var noDsm = SampleConsole.Flag("--no-dsm", "Distil without the DSM term (λ_DSM = 0).");
var selfTeacher = SampleConsole.Flag("--self-teacher", "Teacher-free distillation (the target's own jumps).");
var seed = SampleConsole.Option("--seed", "Seed of every network and every draw.", defaults.Seed);
var outDir = SampleConsole.Option("--out", "Output folder for the plots.", "artifacts/toy2d");
var batch = SampleConsole.Option("--batch", "Batch size.", defaults.Batch);
var ctmLr = SampleConsole.Option("--ctm-lr", "CTM learning rate (RAdam).", defaults.CtmLearningRate);
var ganStart = SampleConsole.Option("--gan-start", "Fraction of the CTM run after which the GAN term starts.", defaults.GanStartFraction);
var targetEma = SampleConsole.Option("--target-ema", "μ of the target network θ⁻.", defaults.TargetEmaRate);
var evalEma = SampleConsole.Option("--eval-ema", "μ of the evaluation EMA.", defaults.EvalEmaRate);
var threads = SampleConsole.Option("--threads", "libtorch CPU threads.", Environment.ProcessorCount);
var reuseTeacher = SampleConsole.Flag("--reuse-teacher", "Load the trained teacher from --out if it is there (and save it otherwise).");
var command = new RootCommand("Ctm.Core 2-D demo: EDM teacher → CTM distillation → sampler table and plots.")
{
    dataset, quick, teacherSteps, ctmSteps, noGan, noDsm, selfTeacher, seed, outDir, batch, ctmLr, ganStart, targetEma, evalEma, threads, reuseTeacher,
};
command.SetAction(r => Run(r));
return SampleConsole.Run(command, args);

int Run(ParseResult r)
{
    using var loggers = SampleConsole.Logging();
    var log = loggers.CreateLogger("Toy2D");
    torch.set_num_threads(r.GetValue(threads));
    bool isQuick = r.GetValue(quick);
    var cfg = defaults with
    {
        TeacherSteps = r.GetValue(teacherSteps) ?? (isQuick ? 600 : defaults.TeacherSteps),
        CtmSteps = r.GetValue(ctmSteps) ?? (isQuick ? 300 : defaults.CtmSteps),
        Gan = !r.GetValue(noGan),
        DsmWeight = r.GetValue(noDsm) ? 0.0 : 1.0,
        TeacherMode = r.GetValue(selfTeacher) ? TeacherMode.SelfTeacher : TeacherMode.Teacher,
        EvalSamples = isQuick ? 4000 : defaults.EvalSamples,
        Batch = r.GetValue(batch),
        CtmLearningRate = r.GetValue(ctmLr),
        GanStartFraction = r.GetValue(ganStart),
        TargetEmaRate = r.GetValue(targetEma),
        EvalEmaRate = r.GetValue(evalEma),
        Seed = r.GetValue(seed),
    };
    string output = r.GetValue(outDir)!;
    var sets = r.GetValue(dataset) switch
    {
        "ring" => new IToyData[] { new RingData() },
        "checkerboard" => new IToyData[] { new CheckerboardData() },
        _ => new IToyData[] { new RingData(), new CheckerboardData() },
    };

    log.LogInformation("Ctm.Core 2-D demo: teacher {TeacherSteps} steps, CTM {CtmSteps} steps, batch {Batch}, GAN {Gan}, DSM weight {Dsm}, {Mode}, {Threads} threads",
        cfg.TeacherSteps, cfg.CtmSteps, cfg.Batch, cfg.Gan ? "on" : "off", cfg.DsmWeight, cfg.TeacherMode, torch.get_num_threads());
    var total = Stopwatch.StartNew();
    foreach (var data in sets)
    {
        Console.WriteLine();
        Console.WriteLine($"== {data.Name} ==");
        // The teacher is trained in every mode: it is also a row of the table (the self-teacher ablation distils without it).
        string teacherCache = r.GetValue(reuseTeacher) ? System.IO.Path.Combine(output, $"teacher-{(data is RingData ? "ring" : "checkerboard")}-{cfg.TeacherSteps}.bin") : "";
        TrainedTeacher? teacher = null;
        TrainedCtm? ctm = null;
        SampleConsole.WithProgress(log, tasks =>
        {
            var teacherBar = tasks.Add($"{data.Name}: teacher", cfg.TeacherSteps);
            var ctmBar = tasks.Add($"{data.Name}: CTM", cfg.CtmSteps);
            teacher = Toy2DPipeline.TrainTeacher(data, cfg, new SyncProgress<(long Step, long Total, double Loss)>(p => teacherBar.Report((p.Step, $"loss {p.Loss:F3}"))), teacherCache);
            ctm = Toy2DPipeline.TrainCtm(data, teacher, cfg, new SyncProgress<CtmTrainingProgress>(p =>
                ctmBar.Report((p.Step, p.DiscriminatorStep ? $"D {p.Loss.GanDiscriminator:F3}"
                    : $"CTM {p.Loss.Ctm:E2} DSM {p.Loss.Dsm:F3} λ_DSM {p.Loss.LambdaDsm:F2} G {(p.Loss.GanGenerator is double gan ? gan.ToString("F2") : "off")} λ_GAN {p.Loss.LambdaGan:F2}"))));
        });
        using var trainedTeacher = teacher!;
        using var trainedCtm = ctm!;
        log.LogInformation("{Data} trained: teacher {Teacher:F0} s, CTM {Ctm:F0} s", data.Name, trainedTeacher.Seconds, trainedCtm.Seconds);
        var (rows, floor, samples) = Toy2DPipeline.Evaluate(data, trainedTeacher, trainedCtm, cfg);
        Toy2DPipeline.PrintTable($"  results ({cfg.EvalSamples} samples each)", rows, floor);

        var panels = samples.Select(kv => new ScatterPlot.Panel(kv.Key, SampleUtil.Floats(kv.Value))).ToList();
        using (var g = new Generator(cfg.Seed + 5))
        using (var d = data.Sample(cfg.EvalSamples, g)) panels.Insert(0, new ScatterPlot.Panel("data", SampleUtil.Floats(d)));
        panels.Add(SampleUtil.TrajectoryPanel(trainedCtm.Model, "CTM paths x_s/sqrt(1+s^2)"));
        string file = System.IO.Path.Combine(output, (data is RingData ? "ring" : "checkerboard") + ".png");
        ScatterPlot.Write(file, panels, columns: 4, extent: 1.6);
        log.LogInformation("wrote {File}", System.IO.Path.GetFullPath(file));
        foreach (var x in samples.Values) x.Dispose();
        data.Dispose();
    }
    log.LogInformation("total {Seconds:F0} s", total.Elapsed.TotalSeconds);
    return 0;
}
