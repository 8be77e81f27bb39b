using System;
using System.Diagnostics;
using System.Linq;
using Ctm.Core.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks;

/// <summary>
/// The official ImageNet-64 CTM network (<see cref="AdmUNetConfig.ImageNet64"/>) on this machine: parameter counts of
/// the built student and teacher, and the time of one-step generation (NFE 1: one jump G(x_T, 80, 0.002), float32,
/// no grad) per image at a few batch sizes. Randomly initialised weights: the cost does not depend on their values.
/// </summary>
/// <remarks>
///   ./build.sh bench adm [--threads N] [--batches 1,4] [--repeats 3]
/// </remarks>
public static class AdmReport
{
    /// <summary>Builds both networks, prints their sizes and times NFE-1 generation per batch size.</summary>
    /// <param name="threads">libtorch CPU threads.</param>
    /// <param name="batches">Batch sizes to time.</param>
    /// <param name="repeats">Timed runs per batch size, after one warm-up.</param>
    public static void Run(int threads, int[] batches, int repeats)
    {
        torch.set_num_threads(threads);
        Console.WriteLine($"ImageNet-64 CTM network (AdmUNet, AdmUNetConfig.ImageNet64), CPU, float32, {torch.get_num_threads()} threads");

        using (var teacher = new AdmUNet(AdmUNetConfig.ImageNet64(trajectoryBranch: false), new Generator(1)))
            Console.WriteLine($"  teacher (EDM, no s-branch): {teacher.parameters().Sum(p => p.numel()):N0} parameters");
        using var student = new AdmUNet(AdmUNetConfig.ImageNet64(), new Generator(2));
        Console.WriteLine($"  CTM student (with s-branch): {student.parameters().Sum(p => p.numel()):N0} parameters");
        student.eval();
        var model = student.AsTrajectoryModel();

        using var gen = new Generator(3);
        using var noGrad = no_grad();
        foreach (int b in batches)
        {
            using var scope = NewDisposeScope();
            var x = randn(new long[] { b, 3, 64, 64 }, generator: gen) * 80.0;
            var labels = randint(0, 1000, new long[] { b }, generator: gen);
            model.Jump(x, 80.0, 0.002, labels).Dispose();   // warm-up
            var process = Process.GetCurrentProcess();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < repeats; r++) model.Jump(x, 80.0, 0.002, labels).Dispose();
            double perImage = sw.Elapsed.TotalSeconds / repeats / b;
            process.Refresh();
            double cpuPerImage = (process.TotalProcessorTime - cpu0).TotalSeconds / repeats / b;
            // CPU time is robust to other jobs on the machine; wall time is what a user waits.
            Console.WriteLine($"  NFE 1, batch {b,3}: {perImage:F2} s per image wall, {cpuPerImage:F2} s CPU ({repeats} timed runs after one warm-up)");
        }
    }

    /// <summary>"1,4" → [1, 4]; null unless every entry is a positive integer.</summary>
    /// <param name="text">Comma-separated batch sizes.</param>
    public static int[]? ParseBatches(string? text)
    {
        var parts = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
                return null;
        return sizes;
    }
}
