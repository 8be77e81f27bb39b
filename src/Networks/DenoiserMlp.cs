using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// An EDM network F(x_in, c_noise(σ)) for vectors: <see cref="TrajectoryMlp"/> without the s-branch. Wrap it in
/// <see cref="Models.EdmDenoiser"/> to get a teacher.
/// </summary>
/// <remarks>Its state-dict keys are a subset of <see cref="TrajectoryMlp"/>'s with the same options. Without autograd, a
/// CPU batch of more than 8,192 rows is evaluated in blocks of 4,096 rows (the same numbers, with the activations in
/// cache).</remarks>
public sealed class DenoiserMlp : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear inp;
    private readonly TimeMapping map_t;
    private readonly ModuleList<MlpBlock> blocks;
    private readonly Linear output;

    /// <summary>Creates the network.</summary>
    /// <param name="options">Shape; defaults to 2-D, 128 hidden, 3 blocks.</param>
    /// <param name="name">Module name.</param>
    /// <param name="generator">If given, draws the initial weights (PyTorch's default ranges) so one seed gives one network; null = TorchSharp's global RNG.</param>
    public DenoiserMlp(MlpOptions? options = null, string name = "denoiser_mlp", Generator? generator = null) : base(name)
    {
        var o = options ?? new MlpOptions();
        o.Validate();
        Options = o;
        inp = nn.Linear(o.Dimension, o.Hidden);
        map_t = new TimeMapping(o.EmbeddingChannels, o.Hidden, o.EmbeddingScale);
        blocks = new ModuleList<MlpBlock>();
        for (int i = 0; i < o.Blocks; i++) blocks.Add(new MlpBlock(o.Hidden, withSBranch: false));
        output = nn.Linear(o.Hidden, o.Dimension);
        RegisterComponents();
        if (generator is not null) DefaultInit.Redraw(this, generator);
    }

    /// <summary>The shape options.</summary>
    public MlpOptions Options { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x, Tensor cNoise)
    {
        if (x.dim() != 2 || x.shape[1] != Options.Dimension)
            throw new ArgumentException($"DenoiserMlp expects x of shape [B, {Options.Dimension}], got [{string.Join(", ", x.shape)}].", nameof(x));
        if (RowBlocks.Worth(x))
        {
            long b = x.shape[0];
            return RowBlocks.Map(b, (i, n) => forward(x.narrow(0, i, n), RowBlocks.Rows(cNoise, b, i, n)));
        }
        using var scope = NewDisposeScope();
        // The time branch runs once per distinct noise level (DistinctTimes): a sampler's step and the CTM's teacher steps
        // use grid values.
        var t = DistinctTimes.Of(cNoise);
        var embT = map_t.call(t.Values);
        var h = inp.call(x);
        foreach (var block in blocks) h = block.Forward(h, embT, t, null, null);
        return output.call(nn.functional.silu(h)).MoveToOuterDisposeScope();
    }
}
