using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using Ctm.Core.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks.Perf;

/// <summary>A network, a batch and a number of jumps (a BenchmarkDotNet parameter).</summary>
public sealed record NfeCase(PerfNet Net, int Batch, int Nfe)
{
    public override string ToString() => $"{Net}, B={Batch}, NFE {Nfe}";
}

/// <summary>
/// γ-sampling at NFE k against k raw network forwards on the same batch (baseline), side by side in one run, 1 thread.
/// Target: NFE k ≤ 1.10 × k forwards. The forward is the network alone on prepared inputs; the sampling run adds
/// the noise draw, the preconditioning, the jump and the re-noising.
/// </summary>
[Config(typeof(Cfg))]
public class NfeVsForwardBenchmarks : IDisposable
{
    private sealed class Cfg : BenchmarkDotNet.Configs.ManualConfig
    {
        public Cfg() { Add(PerfEnvironment.Config(PerfEnvironment.RatioJob(warmup: 2, iterations: 8))); }
    }

    private PerfSubject _s = null!;
    private GammaSampler _sampler = null!;
    private Generator _gen = null!;
    private Tensor _xIn = null!, _tIn = null!, _sIn = null!;
    private Tensor? _labels;

    /// <summary>The cases: the 2-D MLP and MNIST SongUNet at NFE 1, 2, 4; CIFAR-10 SongUNet (B = 8) at NFE 1, 2; ADM ImageNet-64 (B = 1) at NFE 1.</summary>
    public static IEnumerable<NfeCase> Cases()
    {
        foreach (int k in new[] { 1, 2, 4 }) yield return new NfeCase(PerfNet.Mlp, 4096, k);
        foreach (int k in new[] { 1, 2, 4 }) yield return new NfeCase(PerfNet.Mnist, 64, k);
        if (PerfEnvironment.Quick) yield break;
        foreach (int k in new[] { 1, 2 }) yield return new NfeCase(PerfNet.Cifar10, 8, k);
        yield return new NfeCase(PerfNet.Adm64, 1, 1);
    }

    [ParamsSource(nameof(Cases))]
    public NfeCase Case { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        var device = PerfEnvironment.Device;
        _s = PerfSubject.Create(Case.Net, device);
        _sampler = new GammaSampler(_s.Model, _s.SampleShape);
        _gen = new Generator(0);
        using var g = new Generator(1);
        _labels = _s.Labels(Case.Batch, g, device)?.DetachFromDisposeScope();
        _xIn = randn(_s.BatchShape(Case.Batch), generator: g).to(device);
        using var sigma = full(new long[] { Case.Batch }, 80.0, device: device);
        using var sMin = full(new long[] { Case.Batch }, 0.002, device: device);
        _tIn = _s.TimeInput(sigma);
        _sIn = _s.TimeInput(sMin);
    }

    [Benchmark(Baseline = true, Description = "k raw forwards")]
    public void Forwards()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < Case.Nfe; i++)
        {
            using var f = _s.RawForward(_xIn, _tIn, _sIn, _labels);
        }
        PerfEnvironment.Sync();
    }

    [Benchmark(Description = "γ-sampling, NFE k")]
    public void Gamma()
    {
        using var x = _sampler.Sample(Case.Batch, 0.0, Case.Nfe, _labels, _gen);
        PerfEnvironment.Sync();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _s?.Dispose(); _gen?.Dispose(); _xIn?.Dispose(); _tIn?.Dispose(); _sIn?.Dispose(); _labels?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A network and a batch.</summary>
public sealed record NetCase(PerfNet Net, int Batch)
{
    public override string ToString() => $"{Net}, B={Batch}";
}

/// <summary>
/// CTM NFE 1 (baseline) against Heun with 18 steps (NFE 35) on the CTM's own diagonal g(x, σ, σ) — the same network,
/// so every pass costs the same and the physical ratio is 35 (target ≥ 30) — and against the teacher's own network
/// (the same architecture without the s-branch), 1 thread.
/// </summary>
[Config(typeof(Cfg))]
public class CtmVsHeunBenchmarks : IDisposable
{
    private sealed class Cfg : BenchmarkDotNet.Configs.ManualConfig
    {
        public Cfg() { Add(PerfEnvironment.Config(PerfEnvironment.RatioJob(warmup: 1, iterations: 6))); }
    }

    private PerfSubject _s = null!;
    private GammaSampler _ctm = null!;
    private DiffusionSampler _heunCtm = null!, _heunTeacher = null!;
    private Generator _gen = null!;
    private Tensor? _labels;

    public static IEnumerable<NetCase> Cases()
    {
        yield return new NetCase(PerfNet.Mlp, 4096);
        yield return new NetCase(PerfNet.Mnist, 64);
    }

    [ParamsSource(nameof(Cases))]
    public NetCase Case { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        var device = PerfEnvironment.Device;
        _s = PerfSubject.Create(Case.Net, device, withTeacher: true);
        _ctm = new GammaSampler(_s.Model, _s.SampleShape);
        _heunCtm = new DiffusionSampler(_s.Model, _s.SampleShape);
        _heunTeacher = new DiffusionSampler(_s.Teacher!, _s.SampleShape);
        _gen = new Generator(0);
        using var g = new Generator(1);
        _labels = _s.Labels(Case.Batch, g, device)?.DetachFromDisposeScope();
    }

    [Benchmark(Baseline = true, Description = "CTM NFE 1")]
    public void CtmNfe1()
    {
        using var x = _ctm.Sample(Case.Batch, 0.0, 1, _labels, _gen);
        PerfEnvironment.Sync();
    }

    [Benchmark(Description = "Heun NFE 35, CTM diagonal")]
    public void HeunOnCtm()
    {
        using var x = _heunCtm.Sample(Case.Batch, 18, _labels, _gen);
        PerfEnvironment.Sync();
    }

    [Benchmark(Description = "Heun NFE 35, teacher net")]
    public void HeunOnTeacher()
    {
        using var x = _heunTeacher.Sample(Case.Batch, 18, _labels, _gen);
        PerfEnvironment.Sync();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _s?.Dispose(); _gen?.Dispose(); _labels?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A batch size and a thread count.</summary>
public sealed record ThroughputCase(int Batch, int Threads)
{
    public override string ToString() => $"B={Batch}, {Threads} thr";
}

/// <summary>NFE-1 throughput of the MNIST SongUNet against batch size (1 … 1,024) and libtorch threads (1, 2), wall clock.</summary>
[Config(typeof(Cfg))]
public class ThroughputBenchmarks : IDisposable
{
    private sealed class Cfg : BenchmarkDotNet.Configs.ManualConfig
    {
        public Cfg() { Add(PerfEnvironment.Config(PerfEnvironment.WallJob(warmup: 1, iterations: 6))); }
    }

    private PerfSubject _s = null!;
    private GammaSampler _ctm = null!;
    private Generator _gen = null!;
    private Tensor? _labels;

    public static IEnumerable<ThroughputCase> Cases()
    {
        foreach (int threads in new[] { 1, 2 })
            foreach (int b in PerfEnvironment.Quick ? new[] { 1, 64 } : new[] { 1, 4, 16, 64, 256, 1024 })
                yield return new ThroughputCase(b, threads);
    }

    [ParamsSource(nameof(Cases))]
    public ThroughputCase Case { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Case.Threads);
        var device = PerfEnvironment.Device;
        _s = PerfSubject.Create(PerfNet.Mnist, device);
        _ctm = new GammaSampler(_s.Model, _s.SampleShape);
        _gen = new Generator(0);
        using var g = new Generator(1);
        _labels = _s.Labels(Case.Batch, g, device)?.DetachFromDisposeScope();
    }

    [Benchmark(Description = "CTM NFE 1, MNIST SongUNet")]
    public void Nfe1()
    {
        using var x = _ctm.Sample(Case.Batch, 0.0, 1, _labels, _gen);
        PerfEnvironment.Sync();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _s?.Dispose(); _gen?.Dispose(); _labels?.Dispose();
        set_num_threads(1);
        GC.SuppressFinalize(this);
    }
}
