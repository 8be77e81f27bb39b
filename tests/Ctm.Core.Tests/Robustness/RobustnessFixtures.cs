using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Ctm.Core.Models;
using Ctm.Core.Networks;
using Ctm.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Tests.Robustness;

/// <summary>Small networks, trainers and crafted files for the robustness cases.</summary>
internal static class RobustnessFixtures
{
    private static string? _dir;

    public static MlpOptions Net(int hidden = 8) => new() { Dimension = 2, Hidden = hidden, Blocks = 1, EmbeddingChannels = 8 };

    /// <summary>A fresh temporary directory for this process's files.</summary>
    public static string Dir => _dir ??= Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ctm-robust-" + Guid.NewGuid().ToString("N"))).FullName;

    public static string PathOf(string name) => Path.Combine(Dir, name);

    public static void Cleanup()
    {
        if (_dir is not null && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        _dir = null;
    }

    public static string Write(string name, byte[] bytes)
    {
        var p = PathOf(name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    // ---- safetensors ------------------------------------------------------------------------------------------------

    /// <summary>A safetensors file: 8-byte header length (as claimed), the header, then <paramref name="data"/> bytes.</summary>
    public static string Safetensors(string name, string header, int data = 0, ulong? claimedLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        using var ms = new MemoryStream();
        ms.Write(BitConverter.GetBytes(claimedLength ?? (ulong)h.Length));
        ms.Write(h);
        ms.Write(new byte[data]);
        return Write(name, ms.ToArray());
    }

    // ---- PyTorch zip (.pth) -----------------------------------------------------------------------------------------

    /// <summary>A torch.save-style zip: archive/data.pkl plus archive/data/&lt;key&gt; entries, stored uncompressed.</summary>
    public static string Pth(string name, byte[] pickle, params (string Key, byte[] Data)[] storages)
    {
        var p = PathOf(name);
        using (var zip = ZipFile.Open(p, ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) s.Write(pickle);
            foreach (var (key, data) in storages)
                using (var s = zip.CreateEntry("archive/data/" + key, CompressionLevel.NoCompression).Open()) s.Write(data);
        }
        return p;
    }

    /// <summary>
    /// The pickle torch.save writes for <c>{"w": tensor}</c> (protocol 2): an OrderedDict with one
    /// <c>_rebuild_tensor_v2(storage("0", FloatStorage, numel), offset, shape, stride, False, OrderedDict())</c>.
    /// </summary>
    public static byte[] TensorPickle(long numel, long offset, long[] shape, long[] stride, string storage = "FloatStorage")
    {
        var b = new List<byte> { 0x80, 0x02 };
        void Op(params byte[] x) => b.AddRange(x);
        void Str(string s) { var u = Encoding.UTF8.GetBytes(s); Op(0x58); b.AddRange(BitConverter.GetBytes(u.Length)); b.AddRange(u); }
        void Global(string m, string n) { Op(0x63); b.AddRange(Encoding.ASCII.GetBytes(m + "\n" + n + "\n")); }
        void Int(long v) { Op(0x4a); b.AddRange(BitConverter.GetBytes((int)v)); }
        Global("collections", "OrderedDict"); Op(0x29, 0x52);          // OrderedDict()
        Op(0x28); Str("w");                                             // MARK "w"
        Global("torch._utils", "_rebuild_tensor_v2");
        Op(0x28);                                                       // MARK (args)
        Op(0x28); Str("storage"); Global("torch", storage); Str("0"); Str("cpu"); Int(numel); Op(0x74, 0x51); // (pid) BINPERSID
        Int(offset);
        Op(0x28); foreach (var d in shape) Int(d); Op(0x74);
        Op(0x28); foreach (var d in stride) Int(d); Op(0x74);
        Op(0x89);                                                       // requires_grad False
        Global("collections", "OrderedDict"); Op(0x29, 0x52);
        Op(0x74, 0x52);                                                 // TUPLE, REDUCE
        Op(0x75, 0x2e);                                                 // SETITEMS, STOP
        return b.ToArray();
    }

    /// <summary>A pickle whose first string claims <paramref name="claimed"/> bytes (and has none).</summary>
    public static byte[] HugeStringPickle(int claimed)
    {
        var b = new List<byte> { 0x80, 0x02, 0x58 };
        b.AddRange(BitConverter.GetBytes(claimed));
        b.AddRange(Encoding.ASCII.GetBytes("abc"));
        b.Add(0x2e);
        return b.ToArray();
    }

    // ---- checkpoints ------------------------------------------------------------------------------------------------

    /// <summary>A checkpoint with a valid SHA-256 trailer around an arbitrary body after the magic.</summary>
    public static string Checkpoint(string name, Action<BinaryWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Encoding.ASCII.GetBytes("CTMCKPT1"));
            body(w);
            w.Write(Encoding.ASCII.GetBytes("END!"));
        }
        var bytes = ms.ToArray();
        using var f = new MemoryStream();
        f.Write(bytes);
        f.Write(SHA256.HashData(bytes));
        return Write(name, f.ToArray());
    }

    /// <summary>A CTM trainer over fresh tiny networks (GAN with a discriminator of <paramref name="discHidden"/> units).</summary>
    public sealed class CtmRig : IDisposable
    {
        public readonly TrajectoryMlp Student, Target, EvalEma;
        public readonly DenoiserMlp Teacher;
        public readonly MlpDiscriminator? Disc;
        public readonly CtmTrainer Trainer;

        public CtmRig(int hidden = 8, int discHidden = 8, bool gan = true, ulong seed = 1)
        {
            using var g = new Generator(11);
            Student = new TrajectoryMlp(Net(hidden), generator: g);
            Target = new TrajectoryMlp(Net(hidden), generator: g);
            EvalEma = new TrajectoryMlp(Net(hidden), generator: g);
            Teacher = new DenoiserMlp(Net(hidden), generator: g);
            Disc = gan ? new MlpDiscriminator(2, discHidden, 2, generator: g) : null;
            var o = new CtmTrainingOptions { Seed = seed, GanEnabled = gan, GanStartStep = 1, GridPoints = 6, MaxTeacherSteps = 2 };
            var (s, t) = (new CtmTrajectoryModel(Student), new CtmTrajectoryModel(Target));
            var loss = new CtmLoss(s, t, new EdmDenoiser(Teacher), o, null, Student.OutputLayer.weight, Disc);
            Trainer = new CtmTrainer(s, t, new CtmTrajectoryModel(EvalEma), loss, o);
        }

        public static (Tensor, Tensor?) Batch(Generator g) => (randn(new long[] { 8, 2 }, generator: g), null);

        /// <summary>Every byte the trainer would checkpoint now (networks, optimisers, generator, step).</summary>
        public byte[] State()
        {
            var p = PathOf("state-" + Guid.NewGuid().ToString("N"));
            Trainer.SaveCheckpoint(p);
            var bytes = File.ReadAllBytes(p);
            File.Delete(p);
            return bytes;
        }

        public void Dispose()
        {
            Trainer.Dispose();
            Student.Dispose(); Target.Dispose(); EvalEma.Dispose(); Teacher.Dispose(); Disc?.Dispose();
        }
    }

    /// <summary>Runs a load that must fail and checks that the destination's bytes did not change.</summary>
    public static void Atomic(Func<byte[]> state, Action load)
    {
        var before = state();
        try { load(); }
        finally
        {
            if (!before.AsSpan().SequenceEqual(state()))
                throw new PartialStateException("the failed load changed the destination's state");
        }
    }
}
