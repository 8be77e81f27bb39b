using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctm.Core.Checkpoints;
using Ctm.Core.Networks;
using TorchSharp;
using static Ctm.Core.Tests.Robustness.RobustnessCase;
using static Ctm.Core.Tests.Robustness.RobustnessFixtures;
using static TorchSharp.torch;

namespace Ctm.Core.Tests.Robustness;

internal static partial class RobustnessCases
{
    private static void Read(string path) => StateDict.DisposeAll(StateDict.Read(path));

    private static RobustnessCase St(string what, string file, string header, int data = 0, ulong? claimed = null) =>
        FileCase<InvalidDataException>($"StateDict.Read(safetensors): {what}", file, () => Read(Safetensors(file, header, data, claimed)));

    private static RobustnessCase Pt(string what, string file, Func<string> make) =>
        FileCase<InvalidDataException>($"StateDict.Read(pth): {what}", file, () => Read(make()));

    private static IEnumerable<RobustnessCase> Files()
    {
        yield return Arg<ArgumentException>("StateDict.Read: path \"\"", "path", () => Read(""));
        yield return FileCase<FileNotFoundException>("StateDict.Read: missing file", "nothere.pth", () => Read(PathOf("nothere.pth")));
        yield return FileCase<InvalidDataException>("StateDict.Read: unknown format", "weights.bin", () => Read(Write("weights.bin", new byte[] { 1, 2, 3, 4, 5 })));
        yield return FileCase<InvalidDataException>("StateDict.Read(safetensors): empty file (#8)", "empty.safetensors", () => Read(Write("empty.safetensors", Array.Empty<byte>())));
        yield return St("header not JSON (#8)", "notjson.safetensors", "{not json");
        yield return St("header a JSON array", "array.safetensors", "[1, 2]");
        yield return St("header length 2^60 (#8)", "len60.safetensors", "{}", claimed: 1UL << 60);
        yield return St("100-byte file claiming a 2e9-byte header (#8)", "claim.safetensors", "{}", data: 90, claimed: 2_000_000_000);
        yield return St("data offsets too short (#8)", "short.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", data: 16);
        yield return St("dtype F8 (#8)", "f8.safetensors", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", data: 2);
        yield return St("offsets past the end", "past.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", data: 8);
        yield return St("offsets reversed", "rev.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", data: 8);
        yield return St("shape claims 2^62 elements", "huge.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", data: 8);
        yield return St("shape overflows int64 when multiplied", "ovf.safetensors", "{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}");
        yield return St("negative dimension", "neg.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", data: 8);
        yield return St("missing data_offsets", "nooff.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", data: 8);
        yield return St("a key twice", "twice.safetensors", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", data: 1);
        yield return St("deeply nested header", "deep.safetensors", new string('[', 5000) + new string(']', 5000));
        yield return Pt("pickle string claims 2e9 bytes (#8)", "str.pth", () => Pth("str.pth", HugeStringPickle(2_000_000_000)));
        yield return Pt("storage claims more elements than its entry", "numel.pth", () => Pth("numel.pth", TensorPickle(1_000_000_000, 0, new long[] { 4 }, new long[] { 1 }), ("0", new byte[16])));
        yield return Pt("tensor shape beyond its storage", "shape.pth", () => Pth("shape.pth", TensorPickle(4, 0, new long[] { 1_000_000_000, 1_000_000 }, new long[] { 1_000_000, 1 }), ("0", new byte[16])));
        yield return Pt("tensor offset beyond its storage", "offset.pth", () => Pth("offset.pth", TensorPickle(4, 3, new long[] { 4 }, new long[] { 1 }), ("0", new byte[16])));
        yield return Pt("storage entry missing", "noentry.pth", () => Pth("noentry.pth", TensorPickle(4, 0, new long[] { 4 }, new long[] { 1 })));
        yield return Pt("unknown storage type", "storage.pth", () => Pth("storage.pth", TensorPickle(4, 0, new long[] { 4 }, new long[] { 1 }, storage: "QInt8Storage"), ("0", new byte[16])));
        yield return Pt("pickle without STOP", "nostop.pth", () => Pth("nostop.pth", new byte[] { 0x80, 0x02, 0x7d }));
        yield return Pt("pickle opcode INST (code execution path)", "inst.pth", () => Pth("inst.pth", Latin1("\u0080\u0002(ios\nsystem\nX\u0002\u0000\u0000\u0000ls.")));
        yield return Pt("pickle calls os.system", "reduce.pth", () => Pth("reduce.pth", Latin1("\u0080\u0002cos\nsystem\nX\u0004\u0000\u0000\u0000true\u0085R.")));
        yield return Pt("a zip signature followed by garbage", "garbage.pth", () => Write("garbage.pth", new byte[] { 0x50, 0x4b, 0x03, 0x04 }.Concat(Enumerable.Repeat((byte)7, 200)).ToArray()));
        yield return Pt("no data.pkl", "nopkl.pth", () => { var p = PathOf("nopkl.pth"); using (var z = System.IO.Compression.ZipFile.Open(p, System.IO.Compression.ZipArchiveMode.Create)) z.CreateEntry("x"); return p; });
        yield return new RobustnessCase("StateDict.Load: a shape that does not fit names key and both shapes; module unchanged", typeof(StateDictMismatchException), "vs module [", () =>
        {
            using var net = new TrajectoryMlp(Net(8));
            using var other = new TrajectoryMlp(Net(16));
            var sd = other.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
            Atomic(() => ModuleBytes(net), () => StateDict.Load(net, sd));
        });
        yield return Arg<ArgumentException>("StateDict.Load: a disposed source tensor; module unchanged", "source", () =>
        {
            using var net = new TrajectoryMlp(Net(8));
            var sd = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
            sd.Values.Last().Dispose();
            try { Atomic(() => ModuleBytes(net), () => StateDict.Load(net, sd)); }
            finally { foreach (var t in sd.Values) t.Dispose(); }
        });
        yield return FileCase<FileNotFoundException>("TrainedModel.Load: missing JSON", "none.json", () => TrainedModel.Load(PathOf("none.json")).Dispose());
        yield return FileCase<InvalidDataException>("TrainedModel.Load: JSON garbage", "garbage.json", () => TrainedModel.Load(Write("garbage.json", "{\"format\": 7"u8.ToArray())).Dispose());
        yield return FileCase<InvalidDataException>("TrainedModel.Load: hostile weights file", "tm.safetensors", () =>
        {
            using var net = new TrajectoryMlp(Net());
            var json = PathOf("tm.json");
            TrainedModel.Save(json, net, new long[] { 2 });
            Safetensors("tm.safetensors", "{}", claimedLength: 1UL << 60);
            TrainedModel.Load(json).Dispose();
        });
    }

    private static byte[] Latin1(string s) => System.Text.Encoding.Latin1.GetBytes(s);

    private static byte[] ModuleBytes(nn.Module m)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) m.save(w);
        return ms.ToArray();
    }
}
