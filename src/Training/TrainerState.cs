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

    /// <summary>Checks a saved generator state against the generator it will be restored into (same length).</summary>
    public static void ValidateGenerator(Generator generator, byte[] state, string path)
    {
        int own = Generator(generator).Length;
        if (state.Length != own)
            throw new InvalidDataException($"Checkpoint '{path}', section 'rng': {state.Length} bytes of generator state, but a CPU generator's state is {own} bytes.");
    }

    /// <summary>
    /// Runs <paramref name="apply"/> (the part of a load that changes state) so that a failure leaves everything as it
    /// was: <paramref name="snapshot"/> captures the current state first and, if <paramref name="apply"/> throws, the
    /// returned restore action puts it back before the exception (wrapped as <see cref="InvalidDataException"/> naming
    /// the file unless it already is one) propagates.
    /// </summary>
    public static void AllOrNothing(string path, Func<Action> snapshot, Action apply)
    {
        var restore = snapshot();
        try { apply(); }
        catch (Exception e)
        {
            restore();
            if (e is InvalidDataException && e.Message.Contains(path, StringComparison.Ordinal)) throw;
            throw new InvalidDataException($"Checkpoint '{path}' could not be loaded ({e.Message}); nothing was changed.", e);
        }
    }

    /// <summary>The current bytes of a module, and the action that writes them back.</summary>
    public static Action Snapshot(nn.Module module)
    {
        var bytes = Module(module);
        return () =>
        {
            using var r = new BinaryReader(new MemoryStream(bytes), System.Text.Encoding.UTF8);
            module.load(r);
        };
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

        /// <summary>Checks that section <paramref name="name"/> exists and fits <paramref name="module"/> (keys, dtypes, shapes).</summary>
        public void ValidateModule(string name, nn.Module module) => SerializedState.ValidateModule(Need(name), module, _path, name);

        /// <summary>Reads section <paramref name="name"/> with <paramref name="read"/>, which must consume all of it.</summary>
        public T Parse<T>(string name, Func<BinaryReader, T> read)
        {
            var bytes = Need(name);
            using var r = new BinaryReader(new MemoryStream(bytes), System.Text.Encoding.UTF8);
            T value;
            try { value = read(r); }
            catch (EndOfStreamException e) { throw new InvalidDataException($"Checkpoint '{_path}', section '{name}' is truncated.", e); }
            catch (InvalidDataException e) when (!e.Message.Contains(_path, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Checkpoint '{_path}', section '{name}': {e.Message}", e);
            }
            if (r.BaseStream.Position != bytes.Length)
                throw new InvalidDataException($"Checkpoint '{_path}', section '{name}' has {bytes.Length - r.BaseStream.Position} unexpected bytes at its end.");
            return value;
        }

        public bool Has(string name) => _s.ContainsKey(name);

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
