using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// The official <c>ResBlock</c> (<c>cm/unet.py</c>) with CTM's s-branch: h = in_layers(x) (GroupNorm, SiLU, 3×3 conv,
/// with the 2× resampling between SiLU and conv for up/down blocks); emb_out = emb_layers(emb) + emb_layers_s(emb_s);
/// scale-shift norm h = norm(h)·(1 + scale) + shift (or h + emb_out); out_layers (SiLU, dropout, zero-initialised
/// 3×3 conv); result skip_connection(x) + h.
/// </summary>
/// <remarks>Keys: <c>in_layers.{0,2}</c>, <c>emb_layers.1</c>, <c>emb_layers_s.1</c> (student only), <c>out_layers.{0,3}</c>,
/// <c>skip_connection</c> (a 1×1 conv when the channel count changes).</remarks>
internal sealed class AdmResBlock : nn.Module
{
    // TorchSharp registers Module-typed fields under their field names, so the submodules live in the containers below
    // (fields named as the official keys) and in a plain record for direct access.
    private sealed record Parts(AdmGroupNorm32 InNorm, Conv2d InConv, Linear Emb, Linear? EmbS, AdmGroupNorm32 OutNorm, Conv2d OutConv, Conv2d? Skip);

    private readonly AdmContainer in_layers, emb_layers, out_layers;
    private readonly AdmContainer? emb_layers_s;
    private readonly Conv2d? skip_connection;
    private readonly Parts _p;
    private readonly bool _up, _down, _scaleShift;
    private readonly double _dropout;

    public AdmResBlock(AdmLayer spec, AdmUNetConfig config) : base("ResBlock")
    {
        int cin = spec.InChannels, cout = spec.OutChannels, emb = config.EmbChannels;
        int embOut = config.UseScaleShiftNorm ? 2 * cout : cout;
        _up = spec.Up;
        _down = spec.Down;
        _scaleShift = config.UseScaleShiftNorm;
        _dropout = config.Dropout;
        _p = new Parts(
            InNorm: new AdmGroupNorm32(cin),
            InConv: nn.Conv2d(cin, cout, 3, padding: 1),
            Emb: nn.Linear(emb, embOut),
            EmbS: config.TrajectoryBranch ? nn.Linear(emb, embOut) : null,
            OutNorm: new AdmGroupNorm32(cout),
            OutConv: nn.Conv2d(cout, cout, 3, padding: 1),   // zero_module in the official code (see AdmUNet's init)
            Skip: cout != cin ? nn.Conv2d(cin, cout, 1) : null);

        in_layers = new AdmContainer("in_layers");
        in_layers.Add("0", _p.InNorm);
        in_layers.Add("2", _p.InConv);
        emb_layers = new AdmContainer("emb_layers");
        emb_layers.Add("1", _p.Emb);
        out_layers = new AdmContainer("out_layers");
        out_layers.Add("0", _p.OutNorm);
        out_layers.Add("3", _p.OutConv);
        skip_connection = _p.Skip;
        register_module("in_layers", in_layers);
        register_module("emb_layers", emb_layers);
        if (_p.EmbS is not null)
        {
            emb_layers_s = new AdmContainer("emb_layers_s");
            emb_layers_s.Add("1", _p.EmbS);
            register_module("emb_layers_s", emb_layers_s);
        }
        register_module("out_layers", out_layers);
        if (skip_connection is not null) register_module("skip_connection", skip_connection);
    }

    /// <summary>The zero-initialised output convolution (<c>out_layers.3</c>).</summary>
    public Conv2d OutConv => _p.OutConv;

    /// <summary>x [B, C_in, H, W], emb [B, E], embS [B, E] or null (teacher, or no s given) → [B, C_out, H', W'].</summary>
    public Tensor forward(Tensor x, Tensor emb, Tensor? embS)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(_p.InNorm.call(x));
        if (_up || _down)
        {
            h = Resample(h);    // h_upd between the activation and the convolution
            x = Resample(x);    // x_upd
        }
        h = _p.InConv.call(h);

        var embOut = _p.Emb.call(nn.functional.silu(emb)).to_type(h.dtype);
        if (embS is not null)
        {
            if (_p.EmbS is null)
                throw new ArgumentException("This ResBlock has no s-branch (TrajectoryBranch = false): pass no s embedding.", nameof(embS));
            embOut = embOut + _p.EmbS.call(nn.functional.silu(embS)).to_type(h.dtype);   // CTM: t- and s-FiLM summed
        }
        embOut = embOut.unsqueeze(2).unsqueeze(3);
        if (_scaleShift)
        {
            var parts = embOut.chunk(2, 1);   // scale, shift
            h = _p.OutNorm.call(h) * (1 + parts[0]) + parts[1];
        }
        else
        {
            h = _p.OutNorm.call(h + embOut);
        }
        h = _p.OutConv.call(nn.functional.dropout(nn.functional.silu(h), _dropout, training));
        var s = skip_connection is not null ? skip_connection.call(x) : x;
        return (s + h).MoveToOuterDisposeScope();
    }

    private Tensor Resample(Tensor t) => _up ? AdmUpsample.Nearest2x(t) : nn.functional.avg_pool2d(t, 2, 2);
}
