using System;
using Ctm.Core.Models;
using Ctm.Core.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// M teacher trajectories solved once along the whole training grid (<see cref="CtmTrainingOptions.TrajectoryBankSize"/>):
/// x_{t_0} = σ_max·z, then N − 1 Heun steps of the teacher, every grid point kept. A CTM draw (n, k) then reads
/// x_t = x_{t_n} and the teacher's x_u = x_{t_{n+k}} of one trajectory instead of solving k Heun steps per iteration:
/// the same solver on the same grid gives the same x_u for that x_t, so the target is the official one, and only the
/// law of x_t changes from x_0 + t·z to the teacher's own probability-flow marginal at t (equal if the teacher were exact).
/// </summary>
/// <remarks>
/// Memory is N·M·(elements per sample) values ([N, M, …], the model's dtype and device): 17 × 65,536 × 2 floats is 9 MB,
/// but a 32 × 32 × 3 image would need 209 KB per trajectory, so the bank is meant for small data (2-D, tabular). Built
/// from its own generator seeded by <see cref="CtmTrainingOptions.Seed"/>, so a resumed run rebuilds the same bank.
/// Owns its tensors.
/// </remarks>
internal sealed class TeacherTrajectoryBank : IDisposable
{
    private readonly Tensor _points;   // [N·M, …]: grid index major
    private readonly Tensor? _labels;  // [M] class labels of a conditional teacher
    private readonly long[] _sampleShape;

    private TeacherTrajectoryBank(Tensor points, Tensor? labels, long size, long[] sampleShape)
    {
        _points = points; _labels = labels; Size = size; _sampleShape = sampleShape;
    }

    /// <summary>M, the number of trajectories.</summary>
    public long Size { get; }

    /// <summary>Solves the bank.</summary>
    /// <param name="teacher">The teacher (evaluated under no_grad).</param>
    /// <param name="grid">t_0 = σ_max &gt; … &gt; t_{N−1} = σ_min, all &gt; 0.</param>
    /// <param name="size">M.</param>
    /// <param name="sampleShape">One sample's shape (x_0's shape without the batch dimension).</param>
    /// <param name="chunk">Trajectories solved per teacher call. The noise of the whole bank is drawn at once before
    /// solving, so the chunk changes the speed, not the bank (up to the last bits of the teacher's matrix products).</param>
    /// <param name="seed">Seed of the bank's own generator.</param>
    /// <param name="dtype">Dtype of the bank.</param>
    /// <param name="device">Device of the bank.</param>
    public static TeacherTrajectoryBank Build(IDenoiser teacher, double[] grid, long size, long[] sampleShape, long chunk, ulong seed,
        ScalarType dtype, Device device)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "The bank needs at least one trajectory.");
        int n = grid.Length;
        var all = new long[sampleShape.Length + 1];
        all[0] = (long)n * size;
        sampleShape.CopyTo(all, 1);
        // A CPU generator, as everywhere in the library: the same seed gives the same bank on every device.
        using var g = new Generator(seed, CPU);
        using var noGrad = no_grad();
        var points = empty(all, dtype: dtype, device: device);
        Tensor? labels = teacher.NumClasses > 0
            ? randint(teacher.NumClasses, new[] { size }, dtype: ScalarType.Int64, device: CPU, generator: g).to(device)
            : null;
        var first = (long[])all.Clone();
        first[0] = size;
        using (var z = Sampling.Noise.Normal(first, dtype, device, g))
        using (var start0 = points.narrow(0, 0, size))
            start0.copy_(z).mul_(grid[0]);
        for (long start = 0; start < size; start += chunk)
        {
            using var scope = NewDisposeScope();
            long b = Math.Min(chunk, size - start);
            var y = labels?.narrow(0, start, b);
            var x = points.narrow(0, start, b);
            for (int i = 0; i + 1 < n; i++)
            {
                var tCur = full(new[] { b }, grid[i], dtype: dtype, device: device);
                var tNext = full(new[] { b }, grid[i + 1], dtype: dtype, device: device);
                x = HeunSolver.StepPositiveNoGrad(teacher, x, tCur, tNext, y);
                points.narrow(0, (i + 1) * size + start, b).copy_(x);
            }
        }
        return new TeacherTrajectoryBank(points.DetachFromDisposeScope(), labels?.DetachFromDisposeScope(), size, (long[])sampleShape.Clone());
    }

    /// <summary>Whether the bank holds samples of x_0's shape, dtype and device.</summary>
    public bool Serves(Tensor x0)
    {
        if (x0.dtype != _points.dtype || x0.device_type != _points.device_type || x0.device_index != _points.device_index) return false;
        if (x0.dim() != _sampleShape.Length + 1) return false;
        for (int i = 0; i < _sampleShape.Length; i++) if (x0.shape[i + 1] != _sampleShape[i]) return false;
        return true;
    }

    /// <summary>Draws B trajectory rows uniformly (int64 [B]).</summary>
    public Tensor DrawRows(long batch, Generator generator, Device device)
    {
        using var scope = NewDisposeScope();
        var r = (rand(new[] { batch }, dtype: ScalarType.Float64, device: generator.device, generator: generator) * Size).floor().to_type(ScalarType.Int64);
        return r.clamp_max(Size - 1).to(device).MoveToOuterDisposeScope();
    }

    /// <summary>The points of trajectories <paramref name="rows"/> at grid indices <paramref name="index"/> (one per row).</summary>
    public Tensor At(Tensor index, Tensor rows) => _points.index_select(0, index * Size + rows);

    /// <summary>The class labels of trajectories <paramref name="rows"/>, or null for an unconditional teacher.</summary>
    public Tensor? Labels(Tensor rows) => _labels?.index_select(0, rows);

    public void Dispose()
    {
        _points.Dispose();
        _labels?.Dispose();
    }
}
