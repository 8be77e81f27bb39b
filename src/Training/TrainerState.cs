using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// The checkpoint sections both trainers write: a module's or optimiser's bytes, the generator state, and a reader
/// that names a missing section. Sections go through <see cref="CheckpointFile"/> (atomic, SHA-256 checked).
/// </summary>
internal static class TrainerState
{
    public static byte[] Bytes(Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) write(w);
        return ms.ToArray();
    }

    public static byte[] Module(nn.Module module) => Bytes(w => module.save(w));

    public static byte[] Generator(Generator generator)
    {
        using var state = generator.get_state();
        using var bytes = state.to_type(ScalarType.Byte).contiguous();
        return bytes.data<byte>().ToArray();
    }

    public static void RestoreGenerator(Generator generator, byte[] state)
    {
        using var t = tensor(state, dtype: ScalarType.Byte);
        generator.set_state(t);
    }

    /// <summary>The sections of a checkpoint file, with a lookup that explains a missing one.</summary>
    public sealed class Sections
    {
        private readonly Dictionary<string, byte[]> _s;
        private readonly string _path;

        public Sections(string path)
        {
            _path = path;
            _s = CheckpointFile.Read(path);
        }

        public byte[] Need(string name) => _s.TryGetValue(name, out var b) ? b
            : throw new InvalidDataException($"Checkpoint '{_path}' has no '{name}' section; it was written by a trainer with a different set-up.");

        public void Load(string name, Action<BinaryReader> read)
        {
            using var r = new BinaryReader(new MemoryStream(Need(name)), System.Text.Encoding.UTF8);
            read(r);
        }

        public void LoadModule(string name, nn.Module module) => Load(name, r => module.load(r));
    }
}
