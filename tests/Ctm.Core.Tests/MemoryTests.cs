using Ctm.Core.Analytic;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Sampling;
using Ctm.Core.Solvers;
using Ctm.Core.Schedules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>Long loops must not grow memory: the live tensor count is flat across repeated calls.</summary>
[Collection("Torch")]
public class MemoryTests
{
    private static long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [Fact]
    public void RepeatedSampling_LeavesNoLiveTensors()
    {
        using var net = new TrajectoryMlp(new MlpOptions { Dimension = 2, Hidden = 16, Blocks = 2 });
        var model = new CtmTrajectoryModel(net);
        var sampler = new GammaSampler(model, new long[] { 2 });
        using var g = new Generator(1);
        sampler.Sample(8, 0.5, 4, generator: g).Dispose(); // warm-up
        long before = Live();
        for (int i = 0; i < 50; i++) sampler.Sample(8, 0.5, 4, generator: g).Dispose();
        Assert.Equal(before, Live());
    }

    [Fact]
    public void LongSolves_LeaveNoLiveTensors()
    {
        using var m = GammaSamplingMomentTests.TestMixture();
        using var x = ones(4, 2, dtype: ScalarType.Float64);
        HeunSolver.Instance.Solve(m, x, KarrasSchedule.Sigmas(10)).Dispose();
        long before = Live();
        for (int i = 0; i < 5; i++)
        {
            HeunSolver.Instance.Solve(m, x, KarrasSchedule.Sigmas(200)).Dispose();
            m.Jump(x, 80.0, 0.002).Dispose();
            // Through the interface too: the double overload must win over TorchSharp's implicit double → Tensor.
            ITrajectoryModel im = m;
            im.Jump(x, 80.0, 0.002).Dispose();
            ((IDenoiser)m).Denoise(x, 1.0).Dispose();
        }
        Assert.Equal(before, Live());
    }
}
