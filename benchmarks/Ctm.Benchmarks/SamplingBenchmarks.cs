using System;
using BenchmarkDotNet.Attributes;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks;

/// <summary>
/// Sampling throughput on CPU, float32, batch 4096, threads pinned to the core count: CTM γ-sampling with the
/// vector MLP (NFE 1, 2, 4) against the teacher's 35-NFE Heun sampler with a network of the same size.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(8)]
public class SamplingBenchmarks : IDisposable
{
    private const int Batch = 4096;
    private TrajectoryMlp _student = null!;
    private DenoiserMlp _teacherNet = null!;
    private GammaSampler _gamma = null!;
    private DiffusionSampler _heun = null!;
    private Generator _gen = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        var o = new MlpOptions { Dimension = 2, Hidden = 128, Blocks = 3 };
        _student = new TrajectoryMlp(o);
        _teacherNet = new DenoiserMlp(o);
        _student.eval(); _teacherNet.eval();
        _gamma = new GammaSampler(new CtmTrajectoryModel(_student), new long[] { 2 });
        _heun = new DiffusionSampler(new EdmDenoiser(_teacherNet), new long[] { 2 });
        _gen = new Generator(0);
    }

    [Params(1, 2, 4)]
    public int Nfe { get; set; }

    [Benchmark(Description = "CTM γ=0")]
    public void CtmGammaZero() { using var x = _gamma.Sample(Batch, 0.0, Nfe, generator: _gen); }

    [Benchmark(Description = "teacher Heun NFE 35")]
    public void TeacherHeun35() { using var x = _heun.Sample(Batch, 18, generator: _gen); }

    [GlobalCleanup]
    public void Dispose()
    {
        _student?.Dispose(); _teacherNet?.Dispose(); _gen?.Dispose();
        GC.SuppressFinalize(this);
    }
}
