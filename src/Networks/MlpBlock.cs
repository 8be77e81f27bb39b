using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// Residual block of the vector networks: h + lin2(SiLU(lin1(SiLU(h)) + affine(emb_t) [+ affine_s(emb_s)])).
/// The s-branch (<c>affine_s</c>) exists only in trajectory networks, mirroring SongUNet's <c>affine_s</c>.
/// </summary>
internal sealed class MlpBlock : nn.Module
{
    private readonly Linear lin1;
    private readonly Linear affine;
    private readonly Linear? affine_s;
    private readonly Linear lin2;

    /// <summary>Creates a block.</summary>
    /// <param name="hidden">Hidden width.</param>
    /// <param name="withSBranch">Whether the block has the s-embedding input.</param>
    /// <param name="name">Module name.</param>
    public MlpBlock(int hidden, bool withSBranch, string name = "block") : base(name)
    {
        lin1 = nn.Linear(hidden, hidden);
        affine = nn.Linear(hidden, hidden);
        if (withSBranch) affine_s = nn.Linear(hidden, hidden);
        lin2 = nn.Linear(hidden, hidden);
        RegisterComponents();
    }

    /// <summary>The block on hidden state <paramref name="h"/> [B, hidden].</summary>
    /// <param name="h">Hidden state, one row per sample.</param>
    /// <param name="embT">t-embedding, one row per value of <paramref name="t"/>.</param>
    /// <param name="t">The samples' rows of <paramref name="embT"/>.</param>
    /// <param name="embS">s-embedding (trajectory networks), one row per value of <paramref name="s"/>; null in denoisers.</param>
    /// <param name="s">The samples' rows of <paramref name="embS"/>; null in denoisers.</param>
    public Tensor Forward(Tensor h, Tensor embT, DistinctTimes t, Tensor? embS, DistinctTimes? s)
    {
        using var scope = NewDisposeScope();
        var a = lin1.call(nn.functional.silu(h)) + t.PerSample(affine.call(embT));
        if (affine_s is not null && embS is not null && s is { } sRows) a = a + sRows.PerSample(affine_s.call(embS));
        return (h + lin2.call(nn.functional.silu(a))).MoveToOuterDisposeScope();
    }
}
