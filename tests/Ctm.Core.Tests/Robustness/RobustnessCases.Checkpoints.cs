using System;
using System.Collections.Generic;
using System.IO;
using Ctm.Core.Training;
using TorchSharp;
using static Ctm.Core.Tests.Robustness.RobustnessCase;
using static Ctm.Core.Tests.Robustness.RobustnessFixtures;

namespace Ctm.Core.Tests.Robustness;

internal static partial class RobustnessCases
{
    /// <summary>A checkpoint of a rig after <paramref name="steps"/> steps, optionally with one section replaced.</summary>
    private static string TrainedCheckpoint(string name, CtmRig rig, int steps = 3, string? section = null, byte[]? replacement = null)
    {
        for (int i = 0; i < steps; i++) rig.Trainer.TrainStep(CtmRig.Batch);
        var p = PathOf(name);
        rig.Trainer.SaveCheckpoint(p);
        if (section is not null)
        {
            var s = CheckpointFile.Read(p);
            s[section] = replacement!;
            CheckpointFile.Write(p, s);
        }
        return p;
    }

    /// <summary>Loads <paramref name="file"/> into a fresh rig after 3 steps; the rig must be unchanged by the failure.</summary>
    private static void LoadInto(Func<CtmRig, string> file, Func<CtmRig> rig)
    {
        using var r = rig();
        var p = file(r);
        using var b = new CtmRig();
        for (int i = 0; i < 2; i++) b.Trainer.TrainStep(CtmRig.Batch);
        Atomic(b.State, () => b.Trainer.LoadCheckpoint(p));
    }

    private static RobustnessCase Ckpt(string what, string file, Action run) => FileCase<InvalidDataException>($"CtmTrainer.LoadCheckpoint: {what}", file, run);

    private static IEnumerable<RobustnessCase> Checkpoints()
    {
        yield return Arg<ArgumentException>("CtmTrainer.LoadCheckpoint: path null", "path", () => { using var r = new CtmRig(); r.Trainer.LoadCheckpoint(null!); });
        yield return FileCase<FileNotFoundException>("CtmTrainer.LoadCheckpoint: missing file", "missing.ckpt", () => { using var r = new CtmRig(); r.Trainer.LoadCheckpoint(PathOf("missing.ckpt")); });
        yield return Ckpt("random bytes", "random.ckpt", () =>
        {
            var p = Write("random.ckpt", new Random(3).GetItems(new byte[] { 1, 2, 3, 250 }, 4000));
            using var r = new CtmRig(); Atomic(r.State, () => r.Trainer.LoadCheckpoint(p));
        });
        yield return Ckpt("truncated", "trunc.ckpt", () =>
        {
            using var a = new CtmRig();
            var p = TrainedCheckpoint("trunc.ckpt", a);
            var bytes = File.ReadAllBytes(p);
            File.WriteAllBytes(p, bytes[..(bytes.Length / 2)]);
            using var r = new CtmRig(); Atomic(r.State, () => r.Trainer.LoadCheckpoint(p));
        });
        // Valid SHA-256 trailer, crafted section table (#9).
        yield return Ckpt("section count -5 (#9)", "count.ckpt", () => { var p = Checkpoint("count.ckpt", w => w.Write(-5)); using var r = new CtmRig(); r.Trainer.LoadCheckpoint(p); });
        yield return Ckpt("section count int.MaxValue (#9)", "countmax.ckpt", () => { var p = Checkpoint("countmax.ckpt", w => w.Write(int.MaxValue)); using var r = new CtmRig(); r.Trainer.LoadCheckpoint(p); });
        yield return Ckpt("section length -5 (#9)", "len.ckpt", () => { var p = Checkpoint("len.ckpt", w => { w.Write(1); w.Write("meta"); w.Write(-5L); }); using var r = new CtmRig(); r.Trainer.LoadCheckpoint(p); });
        yield return Ckpt("section length 2^40 (#9)", "len40.ckpt", () => { var p = Checkpoint("len40.ckpt", w => { w.Write(1); w.Write("meta"); w.Write(1L << 40); }); using var r = new CtmRig(); r.Trainer.LoadCheckpoint(p); });
        yield return Ckpt("section name claims 2 GB (#9)", "name.ckpt", () => { var p = Checkpoint("name.ckpt", w => { w.Write(1); w.Write(new byte[] { 0xff, 0xff, 0xff, 0xff, 0x07 }); }); using var r = new CtmRig(); r.Trainer.LoadCheckpoint(p); });
        yield return Ckpt("section table ends early (#9)", "short.ckpt", () => { var p = Checkpoint("short.ckpt", w => { w.Write(2); w.Write("meta"); w.Write(16L); w.Write(new byte[16]); }); using var r = new CtmRig(); r.Trainer.LoadCheckpoint(p); });
        yield return Ckpt("meta section of 3 bytes", "meta.ckpt", () => LoadInto(a => TrainedCheckpoint("meta.ckpt", a, section: "meta", replacement: new byte[3]), () => new CtmRig()));
        // Checkpoints that do not fit (#2): the trainer must be left exactly as it was.
        yield return Ckpt("discriminator of another size (#2)", "disc.ckpt", () => LoadInto(a => TrainedCheckpoint("disc.ckpt", a), () => new CtmRig(discHidden: 16)));
        yield return Ckpt("no discriminator, into a GAN trainer (#2)", "nodisc.ckpt", () => LoadInto(a => TrainedCheckpoint("nodisc.ckpt", a), () => new CtmRig(gan: false)));
        yield return Ckpt("networks of another size (#2)", "nets.ckpt", () => LoadInto(a => TrainedCheckpoint("nets.ckpt", a), () => new CtmRig(hidden: 16)));
        yield return Ckpt("a GAN checkpoint into a trainer without GAN", "gan.ckpt", () =>
        {
            using var a = new CtmRig();
            var p = TrainedCheckpoint("gan.ckpt", a);
            using var b = new CtmRig(gan: false);
            Atomic(b.State, () => b.Trainer.LoadCheckpoint(p));
        });
        yield return Ckpt("student section claims a rank-60 tensor", "rank.ckpt", () => LoadInto(a => TrainedCheckpoint("rank.ckpt", a, section: "student",
            replacement: new byte[] { 1, 5, (byte)'a', (byte)'.', (byte)'b', (byte)'.', (byte)'c', 6, 60, 0x80, 0x80, 0x80, 0x80, 0x04 }), () => new CtmRig()));
        yield return Ckpt("student section claims 2^62 bytes", "big.ckpt", () => LoadInto(a =>
        {
            var p = TrainedCheckpoint("big.ckpt", a);
            var s = CheckpointFile.Read(p)["student"];
            // Keep the real first key, then claim an enormous first dimension.
            int keyEnd = 2 + s[1];
            var crafted = new List<byte>(s[..keyEnd]) { 6, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f };
            var all = CheckpointFile.Read(p); all["student"] = crafted.ToArray(); CheckpointFile.Write(p, all);
            return p;
        }, () => new CtmRig()));
        yield return Ckpt("optimizer section of random bytes", "opt.ckpt", () => LoadInto(a => TrainedCheckpoint("opt.ckpt", a, section: "optimizer", replacement: new Random(5).GetItems(new byte[] { 0, 7, 255 }, 300)), () => new CtmRig()));
        yield return Ckpt("d_optimizer state of another size (last section loaded)", "dopt.ckpt", () => LoadInto(a =>
        {
            var p = TrainedCheckpoint("dopt.ckpt", a);
            using var other = new CtmRig(discHidden: 16);
            var q = TrainedCheckpoint("dopt-other.ckpt", other);
            var s = CheckpointFile.Read(p); s["d_optimizer"] = CheckpointFile.Read(q)["d_optimizer"]; CheckpointFile.Write(p, s);
            return p;
        }, () => new CtmRig()));
        yield return Ckpt("rng section of 7 bytes", "rng.ckpt", () => LoadInto(a => TrainedCheckpoint("rng.ckpt", a, section: "rng", replacement: new byte[7]), () => new CtmRig()));
        yield return FileCase<InvalidDataException>("EdmTeacherTrainer.LoadCheckpoint: network of another size", "teacher.ckpt", () =>
        {
            var p = PathOf("teacher.ckpt");
            WithTeacher(t => { t.TrainStep(CtmRig.Batch); t.SaveCheckpoint(p); }, hidden: 16);
            WithTeacher(t => Atomic(() => TeacherState(t), () => t.LoadCheckpoint(p)));
        });
        yield return FileCase<InvalidDataException>("EdmTeacherTrainer.LoadCheckpoint: Adam state of random bytes", "adam.ckpt", () =>
        {
            var p = PathOf("adam.ckpt");
            WithTeacher(t => { t.TrainStep(CtmRig.Batch); t.SaveCheckpoint(p); });
            var s = CheckpointFile.Read(p); s["optimizer"] = new Random(9).GetItems(new byte[] { 0, 3, 200 }, s["optimizer"].Length); CheckpointFile.Write(p, s);
            WithTeacher(t => Atomic(() => TeacherState(t), () => t.LoadCheckpoint(p)));
        });
        yield return FileCase<InvalidDataException>("EdmTeacherTrainer.LoadCheckpoint: RAdam checkpoint into an Adam trainer", "radam.ckpt", () =>
        {
            var p = PathOf("radam.ckpt");
            WithTeacher(t => { t.TrainStep(CtmRig.Batch); t.SaveCheckpoint(p); }, radam: true);
            WithTeacher(t => Atomic(() => TeacherState(t), () => t.LoadCheckpoint(p)));
        });
    }

    private static byte[] TeacherState(EdmTeacherTrainer t)
    {
        var p = PathOf("teacher-state-" + Guid.NewGuid().ToString("N"));
        t.SaveCheckpoint(p);
        var b = File.ReadAllBytes(p);
        File.Delete(p);
        return b;
    }
}
