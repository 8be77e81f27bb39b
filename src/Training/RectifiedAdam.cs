using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// RAdam (Liu et al. 2020), exactly as <c>torch.optim.RAdam</c> in PyTorch — the optimiser the official CTM code uses.
/// </summary>
/// <remarks>
/// <para>Why not <c>torch.optim.RAdam</c> from TorchSharp: in TorchSharp 0.107 its rectified branch multiplies by the
/// learning rate twice (<c>t6 = m̂·lr</c>, then <c>t6·lr·adaptive·rect</c>), so after the fifth step the effective
/// learning rate is lr² (4e-4 → 1.6e-7) and CTM training stalls. This class implements PyTorch's update:</para>
/// <para>m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; m̂ = m/(1−β₁ᵗ); ρ_∞ = 2/(1−β₂) − 1; ρ_t = ρ_∞ − 2tβ₂ᵗ/(1−β₂ᵗ);
/// if ρ_t &gt; 5: θ ← θ − lr·m̂·r_t·√(1−β₂ᵗ)/(√v + ε) with r_t = √((ρ_t−4)(ρ_t−2)ρ_∞/((ρ_∞−4)(ρ_∞−2)ρ_t)); else θ ← θ − lr·m̂.</para>
/// <para>State (step, m, v per parameter) saves to and loads from a <see cref="BinaryWriter"/>/<see cref="BinaryReader"/>
/// for exact resume. The parameters are borrowed.</para>
/// </remarks>
public sealed class RectifiedAdam : IDisposable
{
    private readonly Parameter[] _params;
    private readonly Tensor?[] _m, _v;
    private long _step;

    /// <summary>Creates the optimiser.</summary>
    /// <param name="parameters">Parameters to update (borrowed).</param>
    /// <param name="lr">Learning rate.</param>
    /// <param name="beta1">β₁ (0.9).</param>
    /// <param name="beta2">β₂ (0.999).</param>
    /// <param name="eps">ε (1e-8).</param>
    /// <param name="weightDecay">L2 penalty added to the gradient (0).</param>
    public RectifiedAdam(IEnumerable<Parameter> parameters, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
    {
        _params = (parameters ?? throw new ArgumentNullException(nameof(parameters))).ToArray();
        if (!(lr > 0 && lr <= 1)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "The learning rate must lie in (0, 1] (CTM uses 4e-4).");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "β₁ must lie in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "β₂ must lie in [0, 1).");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "ε must be ≥ 0.");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be ≥ 0.");
        LearningRate = lr; Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
        _m = new Tensor?[_params.Length];
        _v = new Tensor?[_params.Length];
    }

    /// <summary>Learning rate in (0, 1] (may be changed between steps).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value outside (0, 1].</exception>
    public double LearningRate
    {
        get => _lr;
        set => _lr = value > 0 && value <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must lie in (0, 1].");
    }

    private double _lr;

    /// <summary>β₁.</summary>
    public double Beta1 { get; }

    /// <summary>β₂.</summary>
    public double Beta2 { get; }

    /// <summary>ε.</summary>
    public double Eps { get; }

    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>Steps taken.</summary>
    public long StepCount => _step;

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _params) p.grad?.zero_();
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void Step()
    {
        _step++;
        double bc1 = 1 - Math.Pow(Beta1, _step), bc2 = 1 - Math.Pow(Beta2, _step);
        double rhoInf = 2 / (1 - Beta2) - 1;
        double rhoT = rhoInf - 2 * _step * Math.Pow(Beta2, _step) / bc2;
        double rect = rhoT > 5 ? Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
        using var noGrad = no_grad();
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            var grad = p.grad;
            if (grad is null) continue;
            using var scope = NewDisposeScope();
            var g = WeightDecay != 0 ? grad.add(p, alpha: WeightDecay) : grad;
            var m = _m[i] ??= zeros_like(p).DetachFromDisposeScope();
            var v = _v[i] ??= zeros_like(p).DetachFromDisposeScope();
            m.mul_(Beta1).add_(g, alpha: 1 - Beta1);
            v.mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
            if (rhoT > 5)
                p.addcdiv_(m, v.sqrt().add_(Eps), value: -LearningRate * rect * Math.Sqrt(bc2) / bc1);
            else
                p.add_(m, alpha: -LearningRate / bc1);
        }
    }

    /// <summary>Writes step and moments (exact resume).</summary>
    /// <param name="writer">Destination.</param>
    public void Save(BinaryWriter writer)
    {
        if (writer is null) throw new ArgumentNullException(nameof(writer));
        writer.Write(_step);
        writer.Write(_params.Length);
        for (int i = 0; i < _params.Length; i++)
        {
            writer.Write(_m[i] is not null);
            if (_m[i] is null) continue;
            _m[i]!.Save(writer);
            _v[i]!.Save(writer);
        }
    }

    /// <summary>Restores what <see cref="Save"/> wrote, all or nothing: the state is read and checked in full (counts,
    /// dtypes and shapes against the parameters, lengths against the stream) before any moment is replaced.</summary>
    /// <param name="reader">Source.</param>
    /// <exception cref="InvalidDataException">The state belongs to a different parameter list or is malformed; the
    /// optimiser is unchanged.</exception>
    public void Load(BinaryReader reader)
    {
        if (reader is null) throw new ArgumentNullException(nameof(reader));
        var m = new Tensor?[_params.Length];
        var v = new Tensor?[_params.Length];
        try
        {
            long step;
            int n;
            try { step = reader.ReadInt64(); n = reader.ReadInt32(); }
            catch (EndOfStreamException e) { throw new InvalidDataException("The optimiser state is truncated.", e); }
            if (step < 0) throw new InvalidDataException($"The optimiser state has a negative step count ({step}).");
            if (n != _params.Length)
                throw new InvalidDataException($"The optimiser state has {n} parameters but this optimiser has {_params.Length}.");
            for (int i = 0; i < n; i++)
            {
                bool has;
                try { has = reader.ReadBoolean(); }
                catch (EndOfStreamException e) { throw new InvalidDataException("The optimiser state is truncated.", e); }
                if (!has) continue;
                m[i] = ReadMoment(reader, i);
                v[i] = ReadMoment(reader, i);
            }
            for (int i = 0; i < n; i++)
            {
                _m[i]?.Dispose(); _v[i]?.Dispose();
                _m[i] = m[i]; _v[i] = v[i];
                m[i] = null; v[i] = null;
            }
            _step = step;
        }
        finally
        {
            for (int i = 0; i < m.Length; i++) { m[i]?.Dispose(); v[i]?.Dispose(); }
        }
    }

    private Tensor ReadMoment(BinaryReader reader, int i)
    {
        var p = _params[i];
        string where = $"The optimiser state of parameter {i}";
        var h = SerializedState.ReadHeader(reader, where);
        if (h.DType != p.dtype || !h.Shape.SequenceEqual(p.shape))
            throw new InvalidDataException($"{where} is {h.DType} [{string.Join(", ", h.Shape)}] but the parameter is {p.dtype} [{string.Join(", ", p.shape)}].");
        var t = empty(p.shape, p.dtype, CPU).DetachFromDisposeScope();
        try
        {
            t.ReadBytesFromStream(reader.BaseStream);
            if (p.device_type == DeviceType.CPU) return t;
            var moved = t.to(p.device).DetachFromDisposeScope();
            t.Dispose();
            return moved;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>Releases the moment tensors (never the parameters).</summary>
    public void Dispose()
    {
        for (int i = 0; i < _params.Length; i++) { _m[i]?.Dispose(); _v[i]?.Dispose(); _m[i] = null; _v[i] = null; }
    }
}
