using System;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Samples.Mnist;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Benchmarks.Perf;

/// <summary>The networks the perf suites time, at their real sizes.</summary>
public enum PerfNet
{
    /// <summary>The 2-D vector MLP (hidden 128, 3 blocks).</summary>
    Mlp,
    /// <summary>SongUNet in the MNIST sample's configuration (16×16, 16 channels, mult 1,2, 1 block, attention at 8, 10 classes).</summary>
    Mnist,
    /// <summary>SongUNet in the official CIFAR-10 DDPM++ configuration (32×32×3, 128 channels, 2,2,2, 4 blocks, attention at 16).</summary>
    Cifar10,
    /// <summary>The official ImageNet-64 ADM network (192 channels, 1,2,3,4, 3 blocks, 1,000 classes).</summary>
    Adm64,
}

/// <summary>
/// One network in CTM's preconditioning, with its teacher (same architecture without the s-branch) when asked, fixed
/// labels, and the raw forward F(c_in·x, c_noise(t), c_noise(s), labels) that one NFE costs at the network.
/// </summary>
internal sealed class PerfSubject : IDisposable
{
    private readonly Func<Tensor, Tensor, Tensor, Tensor?, Tensor> _raw;
    private readonly Func<Tensor, Tensor, Tensor?, Tensor>? _teacherRaw;

    private PerfSubject(PerfNet kind, nn.Module network, CtmTrajectoryModel model, long[] sampleShape, int numClasses,
        Func<Tensor, Tensor, Tensor, Tensor?, Tensor> raw, Parameter lastLayer,
        nn.Module? teacherNetwork, EdmDenoiser? teacher, Func<Tensor, Tensor, Tensor?, Tensor>? teacherRaw)
    {
        Kind = kind; Network = network; Model = model; SampleShape = sampleShape; NumClasses = numClasses; _raw = raw;
        LastLayer = lastLayer; TeacherNetwork = teacherNetwork; Teacher = teacher; _teacherRaw = teacherRaw;
    }

    public PerfNet Kind { get; }
    public nn.Module Network { get; }
    public CtmTrajectoryModel Model { get; }
    public long[] SampleShape { get; }
    public int NumClasses { get; }
    public Parameter LastLayer { get; }
    public nn.Module? TeacherNetwork { get; }
    public EdmDenoiser? Teacher { get; }

    /// <summary>The MNIST sample's network configuration (student or teacher).</summary>
    public static SongUNetConfig MnistConfig(bool student) => new MnistConfig().Network(student);

    /// <summary>Builds the network (and teacher) on <paramref name="device"/>, in eval mode, seeded.</summary>
    public static PerfSubject Create(PerfNet kind, Device device, bool withTeacher = false, ulong seed = 1)
    {
        using var g = new Generator(seed);
        switch (kind)
        {
            case PerfNet.Mlp:
            {
                var o = new MlpOptions { Dimension = 2, Hidden = 128, Blocks = 3 };
                var net = new TrajectoryMlp(o);
                net.to(device); net.eval();
                DenoiserMlp? t = null;
                if (withTeacher) { t = new DenoiserMlp(o); t.to(device); t.eval(); }
                return new PerfSubject(kind, net, new CtmTrajectoryModel(net), new long[] { 2 }, 0,
                    (x, ct, cs, _) => net.call(x, ct, cs), net.OutputLayer.weight!,
                    t, t is null ? null : new EdmDenoiser(t), t is null ? null : (x, c, _) => t.call(x, c));
            }
            case PerfNet.Mnist:
            case PerfNet.Cifar10:
            {
                var cfg = kind == PerfNet.Mnist ? MnistConfig(true) : SongUNetConfig.Cifar10DdpmPlusPlus();
                var net = new SongUNet(cfg, g);
                net.to(device); net.eval();
                SongUNet? t = null;
                if (withTeacher) { t = new SongUNet(cfg.AsTeacher(), g); t.to(device); t.eval(); }
                return new PerfSubject(kind, net, net.AsTrajectoryModel(), new long[] { cfg.InChannels, cfg.ImgResolution, cfg.ImgResolution },
                    cfg.LabelDim, (x, ct, cs, y) => net.forward(x, ct, cs, y), net.OutputLayerWeight,
                    t, t?.AsDenoiser(), t is null ? null : (x, c, y) => t.forward(x, c, null, y));
            }
            case PerfNet.Adm64:
            {
                var cfg = AdmUNetConfig.ImageNet64();
                var net = new AdmUNet(cfg, g);
                net.to(device); net.eval();
                var model = net.AsTrajectoryModel();
                return new PerfSubject(kind, net, model, new long[] { cfg.InChannels, cfg.ImageSize, cfg.ImageSize }, cfg.NumClasses,
                    (x, ct, cs, y) => net.forward(x, ct, cs, y), LastParameter(net), null, null, null);
            }
            default: throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private static Parameter LastParameter(nn.Module m)
    {
        Parameter? last = null;
        foreach (var p in m.parameters()) last = p;
        return last!;
    }

    /// <summary>Labels for a batch (null for an unconditional network), drawn from <paramref name="g"/>.</summary>
    public Tensor? Labels(long n, Generator g, Device device)
        => NumClasses == 0 ? null : randint(0, NumClasses, new[] { n }, dtype: ScalarType.Int64, generator: g).to(device);

    /// <summary>One raw network forward on already preconditioned inputs (x_in, network time inputs).</summary>
    public Tensor RawForward(Tensor xIn, Tensor timeT, Tensor timeS, Tensor? labels) => _raw(xIn, timeT, timeS, labels);

    /// <summary>One raw teacher forward (x_in, time input).</summary>
    public Tensor TeacherRawForward(Tensor xIn, Tensor time, Tensor? labels) => _teacherRaw!(xIn, time, labels);

    /// <summary>The network's time input for σ (ln σ/4; 250·ln σ for ADM).</summary>
    public Tensor TimeInput(Tensor sigma) => Kind == PerfNet.Adm64 ? 250.0 * sigma.log() : sigma.log() / 4;

    /// <summary>The batch shape [n, sample shape].</summary>
    public long[] BatchShape(long n)
    {
        var s = new long[SampleShape.Length + 1];
        s[0] = n;
        Array.Copy(SampleShape, 0, s, 1, SampleShape.Length);
        return s;
    }

    public void Dispose()
    {
        Network.Dispose();
        TeacherNetwork?.Dispose();
    }
}
