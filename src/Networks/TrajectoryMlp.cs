using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// A CTM network F(x_in, c_noise(t), c_noise(s)) for vectors (2-D toy data, tabular data): a residual MLP whose blocks
/// receive a t-embedding and a parallel s-embedding, as SongUNet's <c>affine</c>/<c>affine_s</c>.
/// Wrap it in <see cref="Models.CtmTrajectoryModel"/>.
/// </summary>
/// <remarks>
/// Key names match <see cref="DenoiserMlp"/> for every part but the s-branch (<c>map_s.*</c>, <c>blocks.*.affine_s.*</c>),
/// so a student can start from a teacher's weights (official CTM initialisation). Build it outside any dispose scope.
/// Without autograd, a CPU batch of more than 8,192 rows is evaluated in blocks of 4,096 rows (the same numbers, with
/// the activations in cache: 3× faster at 65,536 rows).
/// </remarks>
public sealed class TrajectoryMlp : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear inp;
    private readonly TimeMapping map_t;
    private readonly TimeMapping map_s;
    private readonly ModuleList<MlpBlock> blocks;
    private readonly Linear output;

    /// <summary>Creates the network.</summary>
    /// <param name="options">Shape; defaults to 2-D, 128 hidden, 3 blocks.</param>
    /// <param name="name">Module name.</param>
    /// <param name="generator">If given, draws the initial weights (PyTorch's default ranges) so one seed gives one network; null = TorchSharp's global RNG.</param>
    public TrajectoryMlp(MlpOptions? options = null, string name = "trajectory_mlp", Generator? generator = null) : base(name)
    {
        var o = options ?? new MlpOptions();
        o.Validate();
        Options = o;
        inp = nn.Linear(o.Dimension, o.Hidden);
        map_t = new TimeMapping(o.EmbeddingChannels, o.Hidden, o.EmbeddingScale);
        map_s = new TimeMapping(o.EmbeddingChannels, o.Hidden, o.EmbeddingScale);
        blocks = new ModuleList<MlpBlock>();
        for (int i = 0; i < o.Blocks; i++) blocks.Add(new MlpBlock(o.Hidden, withSBranch: true));
        output = nn.Linear(o.Hidden, o.Dimension);
        RegisterComponents();
        if (generator is not null) DefaultInit.Redraw(this, generator);
    }

    /// <summary>The shape options.</summary>
    public MlpOptions Options { get; }

    /// <summary>The output layer: the "last layer" for CTM's adaptive loss weights.</summary>
    public Linear OutputLayer => output;

    /// <inheritdoc />
    public override Tensor forward(Tensor x, Tensor cNoiseT, Tensor cNoiseS)
    {
        if (x.dim() != 2 || x.shape[1] != Options.Dimension)
            throw new ArgumentException($"TrajectoryMlp expects x of shape [B, {Options.Dimension}], got [{string.Join(", ", x.shape)}].", nameof(x));
        if (RowBlocks.Worth(x))
        {
            long b = x.shape[0];
            return RowBlocks.Map(b, (i, n) =>
            {
                var t = RowBlocks.Rows(cNoiseT, b, i, n);
                return forward(x.narrow(0, i, n), t, ReferenceEquals(cNoiseS, cNoiseT) ? t : RowBlocks.Rows(cNoiseS, b, i, n));
            });
        }
        using var scope = NewDisposeScope();
        // The time branches run once per distinct time (DistinctTimes): training and sampling draw t and s from a grid.
        var t = DistinctTimes.Of(cNoiseT);
        var s = ReferenceEquals(cNoiseS, cNoiseT) ? t : DistinctTimes.Of(cNoiseS);   // the diagonal g(x, t, t)
        var embT = map_t.call(t.Values);
        var embS = map_s.call(s.Values);
        var h = inp.call(x);
        foreach (var block in blocks) h = block.Forward(h, embT, t, embS, s);
        return output.call(nn.functional.silu(h)).MoveToOuterDisposeScope();
    }
}
