using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using Ctm.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Benchmarks.Perf;

/// <summary>A network, a batch and K (the largest number of teacher Heun steps per iteration).</summary>
public sealed record TrainCase(PerfNet Net, int Batch, int MaxTeacherSteps)
{
    public override string ToString() => $"{Net}, B={Batch}, K={MaxTeacherSteps}";
}

/// <summary>
/// One CTM training iteration (generator update: loss, backward, RAdam, both EMAs) against the sum of its necessary
/// network passes (baseline), 1 thread. With K = 1 every iteration has k = 1 teacher step, so both sides do the same
/// passes exactly; with K &gt; 1 both draw k from the official P(k) ∝ k and the means compare. Target: the iteration
/// ≤ 1.15 × (passes + the adaptive weights' gradient calls).
/// </summary>
[Config(typeof(Cfg))]
public class TrainingBenchmarks : IDisposable
{
    private sealed class Cfg : BenchmarkDotNet.Configs.ManualConfig
    {
        public Cfg() { Add(PerfEnvironment.Config(PerfEnvironment.RatioJob(warmup: 2, iterations: 8))); }
    }

    private TrainingRig _rig = null!;
    private Generator _kGen = null!;

    public static IEnumerable<TrainCase> Cases()
    {
        yield return new TrainCase(PerfNet.Mlp, 512, 1);  // the 2-D sample's batch
        yield return new TrainCase(PerfNet.Mnist, 64, 1);
        if (!PerfEnvironment.Quick) yield return new TrainCase(PerfNet.Mnist, 64, 10);
    }

    [ParamsSource(nameof(Cases))]
    public TrainCase Case { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        _rig = new TrainingRig(Case.Net, Case.Batch, Case.MaxTeacherSteps);
        _kGen = new Generator(7);
    }

    private int K() => Case.MaxTeacherSteps == 1 ? 1 : CtmTimeSampler.SampleSteps(Case.MaxTeacherSteps, HeunStepStrategy.Weighted, _kGen);

    [Benchmark(Baseline = true, Description = "necessary passes")]
    public void Passes() => _rig.Passes(K(), adaptive: false);

    [Benchmark(Description = "passes + adaptive-weight grads")]
    public void PassesAdaptive() => _rig.Passes(K(), adaptive: true);

    [Benchmark(Description = "CtmTrainer iteration")]
    public void Iteration() => _rig.Iteration();

    [GlobalCleanup]
    public void Dispose()
    {
        _rig?.Dispose(); _kGen?.Dispose();
        GC.SuppressFinalize(this);
    }
}
