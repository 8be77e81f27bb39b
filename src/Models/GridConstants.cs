using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Models;

/// <summary>
/// One model's preconditioning on one fixed time grid t_0 &gt; … &gt; t_{N−1}, computed once in double: per grid index i
/// the time t_i, the EDM scalings c_in, c_skip, c_out at t_i, the Heun slope coefficients a_i = (1 − c_skip)/t_i and
/// b_i = −c_out/t_i (so (x − D(x, t_i))/t_i = a_i·x + b_i·F), the step h_i = t_{i+1} − t_i (0 at the last index), and
/// the network's time input τ(t_i).
/// </summary>
/// <remarks>
/// The CTM loss draws every time from its grid, so a call gathers one row per sample (one <c>index_select</c>) instead
/// of recomputing a dozen element-wise kernels on [B] tensors; for a small network those kernels cost as much as a
/// sixth of a pass. Built by <see cref="PreconditionedModel.OnGrid"/>; owns its tensors.
/// </remarks>
internal sealed class GridConstants : IDisposable
{
    public const int T = 0, CIn = 1, CSkip = 2, COut = 3, A = 4, B = 5, H = 6;
    private const int Columns = 7;

    private GridConstants(Tensor table, Tensor tau)
    {
        Table = table; Tau = tau;
    }

    /// <summary>[N, 7]: t, c_in, c_skip, c_out, a, b, h per grid index.</summary>
    public Tensor Table { get; }

    /// <summary>τ(t_i), the network's time input per grid index ([N] or [N, …]).</summary>
    public Tensor Tau { get; }

    /// <summary>Whether these constants serve tensors of <paramref name="dtype"/> on <paramref name="device"/>
    /// (<see cref="Device"/> has no value equality, and <c>Tensor.device</c> is a new object each call: type and index
    /// are compared).</summary>
    public bool Serves(ScalarType dtype, Device device) =>
        Table.dtype == dtype && Table.device_type == device.type && Table.device_index == device.index;

    /// <summary>The rows of the samples' grid indices (see <see cref="GridRows"/>).</summary>
    public GridRows Rows(Tensor index, Tensor x) => new(Table.index_select(0, index), Tau.index_select(0, index), (int)x.dim());

    internal static GridConstants Create(double[] grid, double sigmaData, Func<Tensor, Tensor> timeInput, ScalarType dtype, Device device)
    {
        if (grid.Length < 1) throw new ArgumentException("The grid is empty.", nameof(grid));
        var v = new double[grid.Length * Columns];
        double sd2 = sigmaData * sigmaData;
        for (int i = 0; i < grid.Length; i++)
        {
            double t = grid[i], q = t * t + sd2;
            if (!(t > 0)) throw new ArgumentOutOfRangeException(nameof(grid), t, "Grid times must be > 0.");
            double cIn = 1 / Math.Sqrt(q), cSkip = sd2 / q, cOut = t * sigmaData * cIn;
            var row = v.AsSpan(i * Columns, Columns);
            row[T] = t; row[CIn] = cIn; row[CSkip] = cSkip; row[COut] = cOut;
            row[A] = (1 - cSkip) / t; row[B] = -cOut / t;
            row[H] = i + 1 < grid.Length ? grid[i + 1] - t : 0;
        }
        using var scope = NewDisposeScope();
        var table = tensor(v, ScalarType.Float64).reshape(grid.Length, Columns).to(dtype, device);
        Tensor tau;
        using (no_grad()) tau = timeInput(tensor(grid, ScalarType.Float64).to(dtype, device));
        return new GridConstants(table.DetachFromDisposeScope(), tau.DetachFromDisposeScope());
    }

    public void Dispose()
    {
        Table.Dispose();
        Tau.Dispose();
    }
}

/// <summary>The gathered rows of <see cref="GridConstants"/> for one batch of grid indices; columns come out shaped
/// [B, 1, …, 1] against x. Tensors belong to the current dispose scope.</summary>
internal readonly struct GridRows
{
    private readonly Tensor _rows;
    private readonly long[] _shape;

    public GridRows(Tensor rows, Tensor tau, int rank)
    {
        _rows = rows;
        Tau = tau;
        _shape = new long[rank];
        _shape[0] = rows.shape[0];
        for (int i = 1; i < rank; i++) _shape[i] = 1;
    }

    /// <summary>τ of each sample's time, the network's time input.</summary>
    public Tensor Tau { get; }

    /// <summary>Column <paramref name="column"/> (e.g. <see cref="GridConstants.CIn"/>) as [B, 1, …, 1].</summary>
    public Tensor this[int column] => _rows.narrow(1, column, 1).view(_shape);
}
