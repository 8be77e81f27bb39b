using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctm.Samples.Mnist;
using TorchSharp;

namespace Ctm.Benchmarks;

/// <summary>
/// MNIST quality targets: trains the FD feature classifier (target ≥ 97% held-out), the EDM teacher and the CTM
/// student (samples/Ctm.Samples.Common/Mnist, the same pipeline as samples/Ctm.Samples.Mnist), then prints the table and the
/// targets of <see cref="MnistReporting.Targets"/> (FD ratios, NFE 1 precision and recall against the teacher's).
/// </summary>
public static class MnistReport
{
    public static void Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int i = Array.IndexOf(args, "--data");
        string data = i >= 0 && i + 1 < args.Length ? args[i + 1] : Path.Combine(".cache", "mnist", "package");
        torch.set_num_threads(Environment.ProcessorCount);
        var config = quick ? MnistConfig.Quick : new MnistConfig();
        var sw = Stopwatch.StartNew();
        void Log(string s) => Console.WriteLine($"[{sw.Elapsed:mm\\:ss}] {s}");
        using var p = new MnistPipeline(config, data, Log);
        p.TrainClassifier();
        using var teacher = p.TrainTeacher(out _);
        using var ctm = p.TrainCtm(teacher, out _);
        var rows = p.Evaluate(teacher, ctm, Path.Combine("artifacts", quick ? "bench-mnist-quick" : "bench-mnist"));
        Console.WriteLine();
        Console.WriteLine(MnistReporting.Table(rows, p));
        Console.WriteLine($"  classifier held-out accuracy {p.ClassifierAccuracy:P2} (target ≥ 97%) {(p.ClassifierAccuracy >= 0.97 ? "PASS" : "FAIL")}");
        foreach (var (pass, text) in MnistReporting.Targets(rows)) Console.WriteLine($"  {(pass ? "PASS" : "FAIL")} {text}");
        Console.WriteLine($"  total {sw.Elapsed.TotalMinutes:F1} min");
    }
}
