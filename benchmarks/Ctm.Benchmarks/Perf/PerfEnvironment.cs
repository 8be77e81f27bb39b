using System;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks.Perf;

/// <summary>
/// Where the perf benchmarks run: the device (<c>CTM_DEVICE</c> = cpu | cuda, or <c>--device</c>), the clock and the
/// BenchmarkDotNet jobs. On a shared CPU the ratio suites measure process CPU time (a custom BenchmarkDotNet clock, in
/// process), so another program's load does not enter the ratios; the throughput suite measures wall time.
/// </summary>
internal static class PerfEnvironment
{
    /// <summary>The environment variable naming the device of the perf benchmarks and device-parameterised tests.</summary>
    public const string DeviceVariable = "CTM_DEVICE";

    /// <summary>Smaller iteration counts (set by <c>perf --quick</c>).</summary>
    public static bool Quick { get; set; }

    /// <summary>The requested device name, lower case ("cpu" when unset).</summary>
    public static string RequestedDevice => (Environment.GetEnvironmentVariable(DeviceVariable) ?? "cpu").Trim().ToLowerInvariant();

    /// <summary>The device to benchmark on, or null with the reason when it is not available here.</summary>
    public static Device? TryDevice(out string reason)
    {
        string name = RequestedDevice;
        reason = "";
        if (name is "" or "cpu") return CPU;
        if (name.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
            {
                reason = $"{DeviceVariable}={name}: CUDA is not available on this machine (libtorch backend without CUDA, or no GPU); skipped.";
                return null;
            }
            return new Device(name);
        }
        reason = $"{DeviceVariable}={name}: unknown device (use cpu or cuda[:N]); skipped.";
        return null;
    }

    /// <summary>The device, throwing when unavailable (benchmarks only run after <see cref="TryDevice"/> succeeded).</summary>
    public static Device Device => TryDevice(out var why) ?? throw new InvalidOperationException(why);

    /// <summary>True when the device computes asynchronously (CUDA): wall clock and an explicit synchronisation then.</summary>
    public static bool IsCuda => Device.type == DeviceType.CUDA;

    /// <summary>Waits for queued device work (CUDA); nothing on CPU.</summary>
    public static void Sync()
    {
        if (IsCuda) cuda.synchronize();
    }

    /// <summary>The job of the ratio suites: in process, process-CPU-time clock on CPU (wall clock on CUDA), unroll 1.</summary>
    public static Job RatioJob(int warmup, int iterations) => Quick
        ? BaseJob(1, 3, cpuClock: !IsCudaRequested)
        : BaseJob(warmup, iterations, cpuClock: !IsCudaRequested);

    /// <summary>The job of the throughput suite: wall clock.</summary>
    public static Job WallJob(int warmup, int iterations) => Quick ? BaseJob(1, 3, cpuClock: false) : BaseJob(warmup, iterations, cpuClock: false);

    private static bool IsCudaRequested => RequestedDevice.StartsWith("cuda", StringComparison.Ordinal);

    private static Job BaseJob(int warmup, int iterations, bool cpuClock)
    {
        var job = Job.Default
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true))
            .WithWarmupCount(warmup).WithIterationCount(iterations)
            .WithUnrollFactor(1).WithIterationTime(TimeInterval.FromMilliseconds(Quick ? 100 : 250))
            .WithGcForce(true);
        if (cpuClock) job = job.WithClock(ProcessCpuClock.Instance).WithId("cpu-time");
        else job = job.WithId("wall");
        return job;
    }

    /// <summary>A config: the given job, median and ratio columns, console and markdown (GitHub) exporters.</summary>
    public static IConfig Config(Job job) => ManualConfig.CreateEmpty()
        .AddJob(job)
        .AddColumnProvider(DefaultColumnProviders.Instance)
        .AddColumn(StatisticColumn.Median)
        .AddLogger(ConsoleLogger.Default)
        .AddExporter(MarkdownExporter.GitHub)
        .AddDiagnoser(MemoryDiagnoser.Default)
        .WithOption(ConfigOptions.JoinSummary, false)
        .WithOption(ConfigOptions.DisableLogFile, true);
}

/// <summary>
/// Process CPU time (<c>clock_gettime(CLOCK_PROCESS_CPUTIME_ID)</c>) as a BenchmarkDotNet clock: what this process
/// spent on every core, immune to other programs' load on a shared machine (libtorch's threads are this process's).
/// </summary>
internal sealed class ProcessCpuClock : IClock
{
    public static ProcessCpuClock Instance { get; } = new();

    private const int ClockProcessCpuTimeId = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clockId, out Timespec value);

    /// <summary>Process CPU time in seconds (for the custom reports).</summary>
    public static double Seconds()
    {
        ClockGetTime(ClockProcessCpuTimeId, out var ts);
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    public string Title => "process CPU time";

    public bool IsAvailable => OperatingSystem.IsLinux();

    public Frequency Frequency => Frequency.GHz;

    public long GetTimestamp()
    {
        ClockGetTime(ClockProcessCpuTimeId, out var ts);
        return ts.Seconds * 1_000_000_000L + ts.Nanoseconds;
    }
}
