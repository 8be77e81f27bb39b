using System;
using System.Collections.Generic;
using System.Linq;
using Ctm.Core.Likelihood;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Solvers;
using TorchSharp;
using static Ctm.Core.Tests.Robustness.RobustnessCase;
using static TorchSharp.torch;

namespace Ctm.Core.Tests.Robustness;

/// <summary>
/// The robustness table: bad inputs to every public entry point (samplers, models, solvers, trainers, options,
/// likelihood, loaders), each with the exception it must give. Run by <see cref="RobustnessSuiteTests"/> in a child
/// process. Findings of issue 14 are marked (#n).
/// </summary>
internal static partial class RobustnessCases
{
    public static IEnumerable<RobustnessCase> All() =>
        Samplers().Concat(Models()).Concat(Solvers()).Concat(LikelihoodCases()).Concat(Options()).Concat(Trainers())
            .Concat(Checkpoints()).Concat(Files()).Concat(EditingAndModels());

    /// <summary>Runs <paramref name="body"/> with a tiny CTM model (MLP, 2-D).</summary>
    private static void WithModel(Action<CtmTrajectoryModel> body)
    {
        using var net = new TrajectoryMlp(RobustnessFixtures.Net());
        body(new CtmTrajectoryModel(net));
    }

    private static Tensor X(ScalarType dtype = ScalarType.Float32) => zeros(new long[] { 3, 2 }, dtype);

    private static Generator DisposedGenerator()
    {
        var g = new Generator(1);
        g.Dispose();
        return g;
    }

    private static readonly double[] Grid = { 80, 1, 0.002 };

    private static IEnumerable<RobustnessCase> Samplers()
    {
        void Gamma(Action<GammaSampler> a) => WithModel(m => a(new GammaSampler(m, new long[] { 2 })));
        void Ode(Action<DiffusionSampler> a) => WithModel(m => a(new DiffusionSampler(m, new long[] { 2 })));
        void Anc(Action<AncestralEulerSampler> a) => WithModel(m => a(new AncestralEulerSampler(m, new long[] { 2 })));
        yield return Arg<ArgumentException>("GammaSampler.ctor: sampleShape [3]", "sampleShape", () => WithModel(m => _ = new GammaSampler(m, new long[] { 3 })));
        yield return Arg<ArgumentException>("GammaSampler.ctor: sampleShape []", "sampleShape", () => WithModel(m => _ = new GammaSampler(m, Array.Empty<long>())));
        yield return Arg<ArgumentNullException>("GammaSampler.ctor: model null", "model", () => _ = new GammaSampler(null!, new long[] { 2 }));
        yield return Arg<ArgumentOutOfRangeException>("GammaSampler.Sample: n 0", "n", () => Gamma(s => s.Sample(0, 0.5, 2).Dispose()));
        yield return Arg<ArgumentOutOfRangeException>("GammaSampler.Sample: steps 0", "steps", () => Gamma(s => s.Sample(2, 0.5, 0).Dispose()));
        yield return Arg<ArgumentOutOfRangeException>("GammaSampler.Sample: steps int.MaxValue (#11)", "steps", () => Gamma(s => s.Sample(2, 0.5, int.MaxValue).Dispose()));
        yield return Arg<ArgumentOutOfRangeException>("GammaSampler.Sample: gamma NaN", "gamma", () => Gamma(s => s.Sample(2, double.NaN, 2).Dispose()));
        yield return Arg<ArgumentOutOfRangeException>("GammaSampler.Sample: gamma 1.5", "gamma", () => Gamma(s => s.Sample(2, 1.5, 2).Dispose()));
        yield return Arg<ArgumentException>("GammaSampler.Sample: disposed generator (#3)", "generator", () => Gamma(s => s.Sample(4, 0.5, 3, generator: DisposedGenerator()).Dispose()));
        yield return Arg<ArgumentException>("GammaSampler.Sample(xT): disposed generator, gamma 0 (#3)", "generator", () => Gamma(s => { using var x = X(); s.Sample(x * 80, 0.0, 2, generator: DisposedGenerator()).Dispose(); }));
        yield return Arg<ArgumentNullException>("GammaSampler.Sample: grid null", "timeGrid", () => Gamma(s => s.Sample(2, 0.5, (IReadOnlyList<double>)null!).Dispose()));
        yield return Arg<ArgumentException>("GammaSampler.Sample: grid ascending", "timeGrid", () => Gamma(s => s.Sample(2, 0.5, new double[] { 0.002, 1, 80 }).Dispose()));
        yield return Arg<ArgumentException>("GammaSampler.Sample: grid NaN", "timeGrid", () => Gamma(s => s.Sample(2, 0.5, new[] { 80, double.NaN, 0.002 }).Dispose()));
        yield return Arg<ArgumentException>("GammaSampler.Sample: grid above σ_max", "timeGrid", () => Gamma(s => s.Sample(2, 0.5, new double[] { 200, 1, 0.002 }).Dispose()));
        yield return Arg<ArgumentNullException>("GammaSampler.Sample: xT null", "xT", () => Gamma(s => s.Sample((Tensor)null!, 0.5, 2).Dispose()));
        yield return Arg<ArgumentException>("GammaSampler.Sample: xT disposed (#11)", "xT", () => Gamma(s => { var x = X(); x.Dispose(); s.Sample(x, 0.5, 2).Dispose(); }));
        yield return Arg<ArgumentException>("GammaSampler.Sample: xT float64 (#11)", "xT", () => Gamma(s => { using var x = X(ScalarType.Float64); s.Sample(x, 0.5, 2).Dispose(); }));
        yield return Arg<ArgumentException>("GammaSampler.Sample: xT int64", "xT", () => Gamma(s => { using var x = X(ScalarType.Int64); s.Sample(x, 0.5, 2).Dispose(); }));
        yield return Arg<ArgumentException>("GammaSampler.Sample: xT shape [3,5]", "xT", () => Gamma(s => { using var x = zeros(3, 5); s.Sample(x, 0.5, 2).Dispose(); }));
        yield return Arg<ArgumentException>("GammaSampler.Sample: xT rank 1", "xT", () => Gamma(s => { using var x = zeros(2); s.Sample(x, 0.5, 2).Dispose(); }));
        yield return Arg<ArgumentException>("GammaSampler.Sample: xT NaN", "xT", () => Gamma(s => { using var x = full(3, 2, double.NaN); s.Sample(x, 0.5, 2).Dispose(); }));
        yield return Arg<ArgumentException>("GammaSampler.Sample: xT on meta", "xT", () => Gamma(s => { using var x = zeros(new long[] { 3, 2 }, device: new Device(DeviceType.META)); s.Sample(x, 0.5, 2).Dispose(); }));
        yield return Arg<ArgumentException>("GammaSampler.Sample: labels on an unconditional model", "labels", () => Gamma(s => { using var y = zeros(2, ScalarType.Int64); s.Sample(2, 0.5, 2, labels: y).Dispose(); }));
        yield return Arg<ArgumentOutOfRangeException>("DiffusionSampler.Sample: steps -1", "steps", () => Ode(s => s.Sample(2, -1).Dispose()));
        yield return Arg<ArgumentOutOfRangeException>("DiffusionSampler.Sample: steps int.MaxValue (#11)", "steps", () => Ode(s => s.Sample(2, int.MaxValue).Dispose()));
        yield return Arg<ArgumentNullException>("DiffusionSampler.Sample(xT): grid null (#4)", "timeGrid", () => Ode(s => { using var x = X(); s.Sample(x, (IReadOnlyList<double>)null!).Dispose(); }));
        yield return Arg<ArgumentException>("DiffusionSampler.Sample: disposed generator (#3)", "generator", () => Ode(s => s.Sample(2, 2, generator: DisposedGenerator()).Dispose()));
        yield return Arg<ArgumentException>("DiffusionSampler.Sample: xT float64 (#11)", "xT", () => Ode(s => { using var x = X(ScalarType.Float64); s.Sample(x, Grid).Dispose(); }));
        yield return Arg<ArgumentException>("DiffusionSampler.Sample: grid ends between 0 and σ_min", "timeGrid", () => Ode(s => s.Sample(2, new double[] { 80, 1e-4 }).Dispose()));
        yield return Arg<ArgumentOutOfRangeException>("AncestralEulerSampler.ctor: eta 2", "eta", () => WithModel(m => _ = new AncestralEulerSampler(m, new long[] { 2 }, eta: 2)));
        yield return Arg<ArgumentException>("AncestralEulerSampler.Sample: disposed generator (#3)", "generator", () => Anc(s => s.Sample(2, 2, generator: DisposedGenerator()).Dispose()));
        yield return Arg<ArgumentOutOfRangeException>("AncestralEulerSampler.Sample: steps int.MaxValue", "steps", () => Anc(s => s.Sample(2, int.MaxValue).Dispose()));
        yield return Arg<ArgumentException>("JumpScheduleSampler.Sample: disposed generator (#3)", "generator", () => WithModel(m =>
            new JumpScheduleSampler(m, new long[] { 2 }).Sample(2, JumpSchedule.Gamma(m, Grid, 0.5), generator: DisposedGenerator()).Dispose()));
        yield return Arg<ArgumentException>("JumpSchedule.ctor: a jump forward in time", "to", () => WithModel(m => _ = new JumpSchedule(m, new double[] { 1 }, new double[] { 2 })));
    }

    private static IEnumerable<RobustnessCase> Models()
    {
        yield return Arg<ArgumentNullException>("CtmTrajectoryModel.ctor: network null", "network", () => _ = new CtmTrajectoryModel((nn.Module<Tensor, Tensor, Tensor, Tensor>)null!));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: s > t", "s", () => WithModel(m => { using var x = X(); m.Jump(x, 1.0, 2.0).Dispose(); }));
        yield return Arg<ArgumentOutOfRangeException>("CtmTrajectoryModel.Jump: t 81", "t", () => WithModel(m => { using var x = X(); m.Jump(x, 81.0, 1.0).Dispose(); }));
        yield return Arg<ArgumentOutOfRangeException>("CtmTrajectoryModel.Jump: s 0", "s", () => WithModel(m => { using var x = X(); m.Jump(x, 1.0, 0.0).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: t NaN", "t", () => WithModel(m => { using var x = X(); m.Jump(x, double.NaN, 1.0).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: t of shape [2] for B = 3", "t", () => WithModel(m => { using var x = X(); using var t = ones(2); using var s = ones(3); m.Jump(x, t, s).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: t disposed (#11)", "t", () => WithModel(m => { using var x = X(); var t = ones(3); t.Dispose(); using var s = ones(3); m.Jump(x, t, s).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: x int64", "x", () => WithModel(m => { using var x = X(ScalarType.Int64); m.Jump(x, 2.0, 1.0).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: x float64", "x", () => WithModel(m => { using var x = X(ScalarType.Float64); m.Jump(x, 2.0, 1.0).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: x +Inf", "x", () => WithModel(m => { using var x = full(3, 2, double.PositiveInfinity); m.Jump(x, 2.0, 1.0).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: x empty batch", "x", () => WithModel(m => { using var x = zeros(0, 2); m.Jump(x, 2.0, 1.0).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: x on meta", "x", () => WithModel(m => { using var x = zeros(new long[] { 3, 2 }, device: new Device(DeviceType.META)); m.Jump(x, 2.0, 1.0).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Jump: x disposed (#11)", "x", () => WithModel(m => { var x = X(); x.Dispose(); m.Jump(x, 2.0, 1.0).Dispose(); }));
        yield return Arg<ArgumentOutOfRangeException>("CtmTrajectoryModel.Denoise: sigma 100 (#11)", "sigma", () => WithModel(m => { using var x = X(); m.Denoise(x, 100.0).Dispose(); }));
        yield return Arg<ArgumentException>("CtmTrajectoryModel.Denoise: sigma NaN", "sigma", () => WithModel(m => { using var x = X(); m.Denoise(x, double.NaN).Dispose(); }));
        yield return Arg<ArgumentOutOfRangeException>("EdmDenoiser.Denoise: sigma 0", "sigma", () =>
        {
            using var net = new DenoiserMlp(RobustnessFixtures.Net());
            using var x = X();
            new EdmDenoiser(net).Denoise(x, 0.0).Dispose();
        });
        yield return Arg<ArgumentException>("CtmOptions.Validate: σ_min ≥ σ_max", "options", () => new CtmOptions { SigmaMin = 80, SigmaMax = 1 }.Validate());
        yield return Arg<ArgumentOutOfRangeException>("KarrasSchedule.Sigmas: count int.MaxValue (#11)", "count", () => Schedules.KarrasSchedule.Sigmas(int.MaxValue));
        yield return Arg<ArgumentOutOfRangeException>("KarrasSchedule.SamplingGrid: nfe int.MaxValue (#11)", "nfe", () => Schedules.KarrasSchedule.SamplingGrid(int.MaxValue));
    }

    private static IEnumerable<RobustnessCase> Solvers()
    {
        var solvers = new (string Name, IOdeSolver Solver)[]
        {
            ("Euler", EulerSolver.Instance), ("Heun", HeunSolver.Instance), ("DpmSolver2", DpmSolver2.Instance), ("DpmSolverPlusPlus2M", DpmSolverPlusPlus2M.Instance),
        };
        foreach (var (name, solver) in solvers)
        {
            void Step(double tCur, double tNext) => WithModel(m =>
            {
                using var x = X();
                using var a = tensor(tCur); using var b = tensor(tNext);
                solver.Step(m, x, a, b).Dispose();
            });
            yield return Arg<ArgumentException>($"{name}.Step: tNext > tCur (#5)", "tNext", () => Step(1.0, 2.0));
            yield return Arg<ArgumentException>($"{name}.Step: tNext = tCur", "tNext", () => Step(1.0, 1.0));
            yield return Arg<ArgumentOutOfRangeException>($"{name}.Step: tNext -1 (#5)", "tNext", () => Step(1.0, -1.0));
            yield return Arg<ArgumentOutOfRangeException>($"{name}.Step: tNext 200 (#5)", "tNext", () => Step(80.0, 200.0));
            yield return Arg<ArgumentOutOfRangeException>($"{name}.Step: tNext between 0 and σ_min", "tNext", () => Step(1.0, 1e-4));
            yield return Arg<ArgumentOutOfRangeException>($"{name}.Step: tCur 200", "tCur", () => Step(200.0, 1.0));
            yield return Arg<ArgumentException>($"{name}.Solve: grid ascending", "timeGrid", () => WithModel(m => { using var x = X(); solver.Solve(m, x, new double[] { 1, 80 }).Dispose(); }));
        }
    }

    private static IEnumerable<RobustnessCase> LikelihoodCases()
    {
        var fast = new LikelihoodOptions { Tolerances = new OdeTolerances { RelativeTolerance = 1e-2, AbsoluteTolerance = 1e-2 } };
        void Ll(Tensor x, LikelihoodOptions? o = null, Generator? g = null) => WithModel(m => ProbabilityFlowLikelihood.LogLikelihood(m, x, o ?? fast, generator: g).Dispose());
        yield return Op("ProbabilityFlowLikelihood.LogLikelihood: inside inference_mode (#1)", () => { using var x = X(); using var mode = inference_mode(); Ll(x); });
        yield return Arg<ArgumentException>("ProbabilityFlowLikelihood.LogLikelihood: x int64 (#11)", "x", () => { using var x = X(ScalarType.Int64); Ll(x); });
        yield return Arg<ArgumentException>("ProbabilityFlowLikelihood.LogLikelihood: x on meta (#11)", "x", () => { using var x = zeros(new long[] { 3, 2 }, device: new Device(DeviceType.META)); Ll(x); });
        yield return Arg<ArgumentException>("ProbabilityFlowLikelihood.LogLikelihood: x NaN", "x", () => { using var x = full(3, 2, double.NaN); Ll(x); });
        yield return Arg<ArgumentException>("ProbabilityFlowLikelihood.LogLikelihood: x rank 1", "x", () => { using var x = zeros(2); Ll(x); });
        yield return Arg<ArgumentException>("ProbabilityFlowLikelihood.LogLikelihood: x disposed", "x", () => { var x = X(); x.Dispose(); Ll(x); });
        yield return Arg<ArgumentOutOfRangeException>("ProbabilityFlowLikelihood.LogLikelihood: SigmaStart -1", "options", () => { using var x = X(); Ll(x, fast with { SigmaStart = -1 }); });
        yield return Arg<ArgumentNullException>("ProbabilityFlowLikelihood.LogLikelihood: Hutchinson without generator", "generator", () => { using var x = X(); Ll(x, fast with { Divergence = DivergenceMethod.Hutchinson }); });
        yield return Arg<ArgumentException>("ProbabilityFlowLikelihood.LogLikelihood: disposed generator (#3)", "generator", () => { using var x = X(); Ll(x, fast with { Divergence = DivergenceMethod.Hutchinson }, DisposedGenerator()); });
        yield return Arg<ArgumentException>("BitsPerDim.Dequantize: disposed generator (#3)", "generator", () => { using var x = zeros(2, 3); BitsPerDim.Dequantize(x, DisposedGenerator()).Dispose(); });
    }
}
