using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>F(x_in, c_t, c_s) = a·x_in + b·c_t + c·c_s, with known coefficients (no parameters but one dummy).</summary>
internal sealed class AffineProbeNet : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Parameter dummy;
    public AffineProbeNet(ScalarType dtype = ScalarType.Float64) : base("probe")
    {
        dummy = nn.Parameter(zeros(1, dtype: dtype));
        RegisterComponents();
    }
    public Tensor? LastCNoiseT, LastCNoiseS;
    public override Tensor forward(Tensor xIn, Tensor ct, Tensor cs)
    {
        LastCNoiseT?.Dispose(); LastCNoiseS?.Dispose();
        LastCNoiseT = ct.detach().clone().DetachFromDisposeScope();
        LastCNoiseS = cs.detach().clone().DetachFromDisposeScope();
        var shape = new long[xIn.dim()]; for (int i = 0; i < shape.Length; i++) shape[i] = 1; shape[0] = -1;
        return 2.0 * xIn + 3.0 * ct.reshape(shape) - 5.0 * cs.reshape(shape) + dummy;
    }
}

/// <summary>Class-conditional probe: F = x_in + labels (as float).</summary>
internal sealed class LabelProbeNet : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    private readonly Parameter dummy;
    public LabelProbeNet() : base("label_probe") { dummy = nn.Parameter(zeros(1, dtype: ScalarType.Float64)); RegisterComponents(); }
    public override Tensor forward(Tensor xIn, Tensor ct, Tensor cs, Tensor labels)
        => xIn + labels.to_type(xIn.dtype).reshape(-1, 1) + dummy;
}
