using Ctm.Core.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// The vector networks evaluate a large CPU batch without a graph in blocks of rows (RowBlocks, for the cache): the
/// result equals the one-call forward, which a graph-building call still takes, for every shape of time input
/// ([B], [1], [B, 1], 0-dim, and the diagonal t = s). Bitwise on the machine measured; the test allows float32 rounding,
/// since a BLAS may block a matrix product differently for another row count.
/// </summary>
[Collection("Torch")]
public sealed class RowBlocksTests
{
    private const long Batch = 2 * RowBlocks.Size + 1234;   // three blocks, the last one partial
    private static readonly MlpOptions Options = new() { Dimension = 2, Hidden = 32, Blocks = 2 };

    /// <summary>A network's output in blocks (no grad) and in one call (grad on, so no blocks).</summary>
    private static (Tensor Blocked, Tensor Whole) Both(Tensor x, System.Func<Tensor> forward)
    {
        Tensor blocked;
        using (no_grad())
        {
            Assert.True(RowBlocks.Worth(x));
            blocked = forward();
        }
        Assert.False(RowBlocks.Worth(x));
        return (blocked, forward().detach());
    }

    [Fact]
    public void TrajectoryMlpInBlocksEqualsOneCall()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        var net = new TrajectoryMlp(Options, generator: g);
        var x = randn(new long[] { Batch, 2 }, generator: g);
        var grid = tensor(new float[] { -1.2f, -0.3f, 0.4f, 0.9f });
        var t = grid.index_select(0, randint(0, 4, new long[] { Batch }, generator: g));   // per sample, repeating
        var s = rand(new long[] { Batch }, generator: g);                                   // per sample, all distinct
        var shared = full(new long[] { 1 }, 0.25f);                                           // one time for every row
        var column = full(new long[] { Batch, 1 }, -0.5f);                                    // [B, 1]
        var scalar = tensor(0.7f);                                                            // 0-dim
        foreach (var (a, b) in new[] { (t, s), (t, t), (shared, s), (column, shared), (shared, shared), (scalar, s), (scalar, scalar) })
        {
            var (blocked, whole) = Both(x, () => net.call(x, a, b));
            Assert.Equal(new[] { Batch, 2L }, blocked.shape);
            TensorAssert.Close(whole, blocked, 1e-5, 1e-6);
        }
    }

    [Fact]
    public void DenoiserMlpInBlocksEqualsOneCall()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(8);
        var net = new DenoiserMlp(Options, generator: g);
        var x = randn(new long[] { Batch, 2 }, generator: g);
        foreach (var c in new[] { rand(new long[] { Batch }, generator: g), full(new long[] { 1 }, 0.25f), full(new long[] { Batch, 1 }, -0.5f), tensor(0.7f) })
        {
            var (blocked, whole) = Both(x, () => net.call(x, c));
            TensorAssert.Close(whole, blocked, 1e-5, 1e-6);
        }
    }
}
