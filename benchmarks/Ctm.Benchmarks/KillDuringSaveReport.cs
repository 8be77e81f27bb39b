using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks;

/// <summary>
/// The kill-during-save test (issue 14): a child process trains a CTM (GAN on) and checkpoints after every iteration;
/// the parent SIGKILLs it at random moments, starts it again (it resumes from the checkpoint each time), and after
/// the last kill lets it finish. The final checkpoint must be byte-identical to the one an uninterrupted run writes,
/// no temporary file may be left, and every restart must resume.
/// </summary>
/// <remarks>
/// <c>./build.sh bench kill-save [--kills 20] [--steps 200] [--seed 1]</c>. The child is this program's hidden
/// <c>kill-save-child</c> verb. It prints "ready &lt;step&gt;" after resuming, "save &lt;step&gt;" before and "saved" after each
/// checkpoint, so the parent can tell whether a kill landed inside a save.
/// </remarks>
internal static class KillDuringSaveReport
{
    private const string Checkpoint = "train.ckpt";

    public static int Run(int kills, int steps, int seed)
    {
        var root = Directory.CreateTempSubdirectory("ctm-kill-save-").FullName;
        try
        {
            Console.WriteLine($"kill-during-save: {kills} SIGKILLs, {steps} iterations, checkpoint after every iteration, seed {seed}; dir {root}");
            var reference = Path.Combine(root, "reference");
            var sw = Stopwatch.StartNew();
            var code = RunChild(reference, steps, killAfter: null).Exit;
            if (code != 0) { Console.WriteLine($"the uninterrupted run failed (exit {code})"); return 1; }
            double seconds = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"uninterrupted run: {seconds:F1} s");

            var rng = new Random(seed);
            var run = Path.Combine(root, "killed");
            int landed = 0, inSave = 0, recovered = 0, staleSeen = 0, finishedEarly = 0;
            long lastSaved = 0;     // the step of the last checkpoint the killed child reported complete
            bool pending = false;   // a kill whose recovery the next start must show
            // Kill delays (after the child is ready) uniform in [0, 2·span]: together they cover about 60 % of the run,
            // so every kill lands before the run could finish.
            double span = Math.Max(0.2, 0.6 * seconds / kills);
            for (int k = 1; k <= kills + 1; k++)
            {
                bool last = k == kills + 1;
                var delay = last ? (TimeSpan?)null : TimeSpan.FromSeconds(rng.NextDouble() * 2 * span);
                var r = RunChild(run, steps, delay);
                // Recovered: the restart resumed from the last complete checkpoint (or the one whose rename the kill
                // interrupted after it happened), not from an older or broken one, and went on training.
                if (pending && r.ReadyStep is long ready && ready >= lastSaved && ready <= lastSaved + 1) recovered++;
                pending = false;
                if (last)
                {
                    bool identical = r.Exit == 0 && File.ReadAllBytes(Path.Combine(run, Checkpoint)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(reference, Checkpoint)));
                    int leftover = Directory.GetFiles(run, "*.tmp-*").Length;
                    Console.WriteLine($"final run: resumed at step {r.ReadyStep}, exit {r.Exit}");
                    Console.WriteLine();
                    Console.WriteLine($"kills: {landed} landed ({inSave} inside SaveCheckpoint), {finishedEarly} runs finished before their kill");
                    Console.WriteLine($"recovered: {recovered}/{landed} (each restart resumed from the last complete checkpoint)");
                    Console.WriteLine($"temporary files: {staleSeen} seen after kills, {leftover} left after the final save");
                    Console.WriteLine($"final checkpoint byte-identical to the uninterrupted run: {(identical ? "yes" : "NO")}");
                    return identical && recovered == landed && landed == kills && leftover == 0 ? 0 : 1;
                }
                bool killed = r.Exit is null;
                if (killed) { landed++; pending = true; } else finishedEarly++;
                if (killed && r.LastMarker is not null && r.LastMarker.StartsWith("save ", StringComparison.Ordinal)) inSave++;
                lastSaved = r.LastSaved ?? r.ReadyStep ?? lastSaved;
                int stale = Directory.Exists(run) ? Directory.GetFiles(run, Checkpoint + ".tmp-*").Length : 0;
                staleSeen += stale;
                Console.WriteLine($"kill {k,2}: after {delay!.Value.TotalMilliseconds,5:F0} ms, {(killed ? "killed" : $"exited {r.Exit}")}, started at step " +
                    $"{r.ReadyStep?.ToString() ?? "-"}, last marker '{r.LastMarker ?? "-"}', temporary files left {stale}");
                if (!killed && r.Exit != 0) { Console.WriteLine("a restart failed: not recovered"); return 1; }
            }
            return 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private readonly record struct ChildRun(int? Exit, string? LastMarker, long? ReadyStep, long? LastSaved);

    /// <summary>Runs the child until it exits (exit code) or until <paramref name="killAfter"/> after it is ready (then SIGKILL; exit null).</summary>
    private static ChildRun RunChild(string dir, int steps, TimeSpan? killAfter)
    {
        var self = Assembly.GetEntryAssembly()!.Location;
        var host = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") { psi.ArgumentList.Add("exec"); psi.ArgumentList.Add(self); }
        foreach (var a in new[] { "kill-save-child", "--dir", dir, "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string? last = null;
        long? readyStep = null, lastSaved = null;
        var ready = new ManualResetEventSlim();
        var reader = new Thread(() =>
        {
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null)
            {
                if (line.StartsWith("ready ", StringComparison.Ordinal))
                {
                    readyStep = long.Parse(line[6..], System.Globalization.CultureInfo.InvariantCulture);
                    ready.Set();
                    continue;
                }
                if (line.StartsWith("saved ", StringComparison.Ordinal)) lastSaved = long.Parse(line[6..], System.Globalization.CultureInfo.InvariantCulture);
                Volatile.Write(ref last, line);
            }
            ready.Set();
        }) { IsBackground = true };
        reader.Start();
        if (killAfter is { } delay)
        {
            ready.Wait();
            if (!p.WaitForExit(delay))
            {
                string? marker = Volatile.Read(ref last);
                p.Kill();   // SIGKILL on Linux
                p.WaitForExit();
                reader.Join();
                return new ChildRun(null, marker, readyStep, lastSaved);
            }
        }
        p.WaitForExit();
        reader.Join();
        return new ChildRun(p.ExitCode, last, readyStep, lastSaved);
    }

    /// <summary>The child: resume if a checkpoint exists, then train to <paramref name="steps"/>, saving after every iteration.</summary>
    public static int Child(string dir, int steps)
    {
        torch.set_num_threads(1);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Checkpoint);
        using var g = new Generator(42);
        var net = new MlpOptions { Dimension = 2, Hidden = 256, Blocks = 2, EmbeddingChannels = 32 };
        using var student = new TrajectoryMlp(net, generator: g);
        using var target = new TrajectoryMlp(net, generator: g);
        using var evalEma = new TrajectoryMlp(net, generator: g);
        using var teacher = new DenoiserMlp(net, generator: g);
        using var disc = new MlpDiscriminator(2, 128, 2, generator: g);
        var o = new CtmTrainingOptions { Seed = 7, GanEnabled = true, GanStartStep = 10, GridPoints = 10, MaxTeacherSteps = 4 };
        var (s, t) = (new CtmTrajectoryModel(student), new CtmTrajectoryModel(target));
        using var loss = new CtmLoss(s, t, new EdmDenoiser(teacher), o, null, student.OutputLayer.weight, disc);
        using var trainer = new CtmTrainer(s, t, new CtmTrajectoryModel(evalEma), loss, o);
        if (File.Exists(path)) trainer.LoadCheckpoint(path);
        Console.Out.WriteLine("ready " + trainer.Step);
        Console.Out.Flush();
        while (trainer.Step < steps)
        {
            trainer.TrainStep(gen => (randn(new long[] { 64, 2 }, generator: gen) * 0.5 + 0.2, null));
            Console.Out.WriteLine("save " + trainer.Step);
            Console.Out.Flush();
            trainer.SaveCheckpoint(path);
            Console.Out.WriteLine("saved " + trainer.Step);
            Console.Out.Flush();
        }
        return 0;
    }
}
