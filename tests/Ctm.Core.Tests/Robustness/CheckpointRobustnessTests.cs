using System;
using System.IO;
using System.Linq;
using Ctm.Core.Checkpoints;
using Ctm.Core.Networks;
using Ctm.Core.Training;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests.Robustness;

/// <summary>The file-handling guarantees of issue 14 that the table cannot express as "must throw".</summary>
[Collection("Torch")]
public class CheckpointRobustnessTests : IDisposable
{
    public void Dispose() => RobustnessFixtures.Cleanup();

    [Fact]
    public void StaleTemporaries_OfAnInterruptedSave_AreRemovedByTheNextSave()
    {
        using var rig = new RobustnessFixtures.CtmRig();
        var path = RobustnessFixtures.PathOf("run.ckpt");
        var stale = path + ".tmp-" + Guid.NewGuid().ToString("N");
        var unrelated = new[] { path + ".tmp-notaguid", RobustnessFixtures.PathOf("other.ckpt.tmp-" + Guid.NewGuid().ToString("N")) };
        File.WriteAllBytes(stale, new byte[100_000]);
        foreach (var f in unrelated) File.WriteAllBytes(f, new byte[10]);
        rig.Trainer.SaveCheckpoint(path);
        Assert.False(File.Exists(stale));
        Assert.All(unrelated, f => Assert.True(File.Exists(f)));
        Assert.DoesNotContain(Directory.GetFiles(RobustnessFixtures.Dir, "run.ckpt.tmp-*"), f => !unrelated.Contains(f));
    }

    [Fact]
    public void LoadCheckpoint_OfAnotherArchitecture_NamesTheFirstKeyAndBothShapes_AndChangesNothing()
    {
        using var wide = new RobustnessFixtures.CtmRig(hidden: 16);
        wide.Trainer.TrainStep(RobustnessFixtures.CtmRig.Batch);
        var path = RobustnessFixtures.PathOf("wide.ckpt");
        wide.Trainer.SaveCheckpoint(path);

        using var narrow = new RobustnessFixtures.CtmRig(hidden: 8);
        for (int i = 0; i < 3; i++) narrow.Trainer.TrainStep(RobustnessFixtures.CtmRig.Batch);
        var before = narrow.State();
        var e = Assert.Throws<InvalidDataException>(() => narrow.Trainer.LoadCheckpoint(path));
        var firstKey = narrow.Student.state_dict().First(kv => !kv.Value.shape.SequenceEqual(wide.Student.state_dict()[kv.Key].shape));
        Assert.Contains(path, e.Message);
        Assert.Contains("'student'", e.Message);
        Assert.Contains($"'{firstKey.Key}'", e.Message);
        Assert.Contains($"[{string.Join(", ", wide.Student.state_dict()[firstKey.Key].shape)}] in the checkpoint", e.Message);
        Assert.Contains($"[{string.Join(", ", firstKey.Value.shape)}] in this trainer's network", e.Message);
        Assert.Equal(3, narrow.Trainer.Step);
        Assert.Equal(before, narrow.State());
    }

    [Fact]
    public void LoadCheckpoint_ThatFits_StillResumesExactly()
    {
        using var a = new RobustnessFixtures.CtmRig();
        for (int i = 0; i < 3; i++) a.Trainer.TrainStep(RobustnessFixtures.CtmRig.Batch);
        var path = RobustnessFixtures.PathOf("fits.ckpt");
        a.Trainer.SaveCheckpoint(path);
        using var b = new RobustnessFixtures.CtmRig();
        b.Trainer.LoadCheckpoint(path);
        Assert.Equal(a.State(), b.State());
        a.Trainer.TrainStep(RobustnessFixtures.CtmRig.Batch);
        b.Trainer.TrainStep(RobustnessFixtures.CtmRig.Batch);
        Assert.Equal(a.State(), b.State());
    }

    [Fact]
    public void SizeClaimsOfHostileFiles_AllocateNothingBeyondTheFile()
    {
        // Each file is tiny but claims about 2 GB; before issue 14 the readers allocated the claim (or failed trying).
        var files = new[]
        {
            RobustnessFixtures.Pth("claim.pth", RobustnessFixtures.HugeStringPickle(2_000_000_000)),
            RobustnessFixtures.Safetensors("claim.safetensors", "{}", data: 90, claimedLength: 2_000_000_000),
            RobustnessFixtures.Checkpoint("claim.ckpt", w => { w.Write(1); w.Write("meta"); w.Write(2_000_000_000L); }),
        };
        foreach (var path in files)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<InvalidDataException>(() =>
            {
                if (path.EndsWith(".ckpt", StringComparison.Ordinal)) CheckpointFile.Read(path);
                else StateDict.DisposeAll(StateDict.Read(path));
            });
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Contains(path, e.Message);
            Assert.True(allocated < 16_000_000, $"{Path.GetFileName(path)}: {allocated:N0} bytes allocated for a {new FileInfo(path).Length}-byte file");
        }
    }

    [Fact]
    public void TrainStep_InsideNoGrad_StillTrains()
    {
        using var rig = new RobustnessFixtures.CtmRig(gan: false);
        using var before = rig.Student.OutputLayer.weight!.detach().clone();
        using (no_grad()) rig.Trainer.TrainStep(RobustnessFixtures.CtmRig.Batch);
        Assert.False(before.equal(rig.Student.OutputLayer.weight!).all().item<bool>());
    }

    [Fact]
    public void ACraftedTorchSavePickle_IsAcceptedByTheGuard_AndLoads()
    {
        // The same builder makes the hostile .pth cases; here with honest sizes it must load.
        var data = new float[] { 2, 3, 4, 5 };
        var bytes = data.SelectMany(BitConverter.GetBytes).ToArray();
        var p = RobustnessFixtures.Pth("ok.pth", RobustnessFixtures.TensorPickle(4, 0, new long[] { 2, 2 }, new long[] { 2, 1 }), ("0", bytes));
        var sd = StateDict.Read(p);
        try
        {
            Assert.Equal(new[] { "w" }, sd.Keys.ToArray());
            Assert.Equal(new float[] { 2, 3, 4, 5 }, sd["w"].data<float>().ToArray());
        }
        finally { StateDict.DisposeAll(sd); }
    }

    [Fact]
    public void Safetensors_WrittenByTorchSharp_ReadBackExactly()
    {
        using var net = new TrajectoryMlp(RobustnessFixtures.Net());
        var p = RobustnessFixtures.PathOf("net.safetensors");
        net.save_safetensors(p);
        var sd = StateDict.Read(p);
        try
        {
            var own = net.state_dict();
            Assert.Equal(own.Keys.OrderBy(k => k), sd.Keys.OrderBy(k => k));
            foreach (var (k, v) in own) Assert.True(v.equal(sd[k]).all().item<bool>(), k);
        }
        finally { StateDict.DisposeAll(sd); }
    }
}
