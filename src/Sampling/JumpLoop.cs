using System;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Sampling;

/// <summary>
/// The loop every CTM sampler shares: for each jump of a <see cref="JumpSchedule"/>, x̂ = G(x, t_n, s_n), an optional
/// edit of x̂ (zero-shot editing puts the known part back here), then re-noising up to t_{n+1}. Each jump runs in its
/// own dispose scope, so memory stays flat however many jumps there are.
/// </summary>
internal static class JumpLoop
{
    /// <summary>What to do with x̂ after jump <c>n</c> landed at time <c>s</c>: returns x̂ itself or a tensor made from it
    /// (anything made here belongs to the jump's dispose scope).</summary>
    public delegate Tensor AfterJump(Tensor xHat, int n, double s);

    /// <summary>Runs the schedule from x (borrowed, the state at From[0]) and returns the final state (new tensor).</summary>
    public static Tensor Run(ITrajectoryModel model, Tensor x, JumpSchedule schedule, Tensor? labels, Generator generator,
        AfterJump? afterJump, IProgress<SamplingProgress>? progress, CancellationToken cancellationToken)
    {
        using var noGrad = no_grad();
        var cur = x.alias();
        int jumps = schedule.Jumps;
        for (int n = 0; n < jumps; n++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double t = schedule.From[n], s = schedule.To[n];
            using (var scope = NewDisposeScope())
            {
                var next = model.Jump(cur, t, s, labels);                                           // 1. x̂ = G(x, t_n, s_n)
                if (afterJump is not null) next = afterJump(next, n, s);                              // 2. edit x̂ (optional)
                if (n + 1 < jumps && schedule.From[n + 1] > s)
                {
                    double std = Math.Sqrt(schedule.From[n + 1] * schedule.From[n + 1] - s * s);
                    next = next + std * Noise.Normal(cur.shape, cur.dtype, cur.device, generator);    // 3. re-noise up to t_{n+1}
                }
                next.MoveToOuterDisposeScope();
                cur.Dispose();
                cur = next;
            }
            progress?.Report(new SamplingProgress(n + 1, jumps, t, s, n + 1));
        }
        return cur;
    }
}
