using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// Reads TorchSharp's own serialisation (<c>Module.save(BinaryWriter)</c>: LEB128 entry count, then per entry a .NET
/// string key and a tensor as LEB128 dtype, rank, dims, raw bytes) without trusting it: every count, rank, dimension
/// and byte length is checked against what is left of the section before anything is allocated, and every entry is
/// compared with the destination's own tensors. Checkpoint loads validate all sections this way before they change
/// anything, so a checkpoint that does not fit leaves the trainer exactly as it was.
/// </summary>
internal static class SerializedState
{
    private const int MaxRank = 64;

    /// <summary>A tensor's serialised header: dtype, shape and the byte count of its data.</summary>
    internal readonly record struct TensorHeader(ScalarType DType, long[] Shape, long ByteCount);

    /// <summary>
    /// Checks that <paramref name="section"/> is exactly what <c>module.save</c> would write for a module with
    /// <paramref name="module"/>'s keys, dtypes and shapes (values aside).
    /// </summary>
    /// <exception cref="InvalidDataException">Names the file, the section, the first offending key and both shapes.</exception>
    public static void ValidateModule(byte[] section, nn.Module module, string path, string name)
    {
        var expected = module.state_dict();
        using var r = new BinaryReader(new MemoryStream(section, writable: false), Encoding.UTF8);
        string where = $"Checkpoint '{path}', section '{name}'";
        long count = Leb128(r, where, "entry count");
        if (count != expected.Count)
        {
            var firstMissing = expected.Keys.FirstOrDefault();
            throw new InvalidDataException($"{where} holds {count} tensors but this trainer's network has {expected.Count} " +
                $"(first key '{firstMissing}'); the checkpoint was written for a different architecture. Build the networks with the settings of the run that wrote it.");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            string key = DotNetString(r, where);
            if (!expected.TryGetValue(key, out var own))
                throw new InvalidDataException($"{where} has key '{key}', which this trainer's network does not have; the checkpoint was written for a different architecture.");
            if (!seen.Add(key)) throw new InvalidDataException($"{where} has key '{key}' twice.");
            var h = ReadHeader(r, where + $", key '{key}'");
            if (h.DType != own.dtype)
                throw new InvalidDataException($"{where}, key '{key}': dtype {h.DType} in the checkpoint vs {own.dtype} in this trainer's network.");
            if (!h.Shape.SequenceEqual(own.shape))
                throw new InvalidDataException($"{where}, key '{key}': shape [{string.Join(", ", h.Shape)}] in the checkpoint vs " +
                    $"[{string.Join(", ", own.shape)}] in this trainer's network; the checkpoint was written for a different architecture.");
            r.BaseStream.Seek(h.ByteCount, SeekOrigin.Current);
        }
        if (r.BaseStream.Position != section.Length)
            throw new InvalidDataException($"{where} has {section.Length - r.BaseStream.Position} unexpected bytes after its last tensor.");
    }

    /// <summary>Reads a tensor header and checks that its data fits in what is left of the stream.</summary>
    public static TensorHeader ReadHeader(BinaryReader r, string where)
    {
        long code = Leb128(r, where, "dtype");
        if (code > 64 || !Enum.IsDefined(typeof(ScalarType), (sbyte)code))
            throw new InvalidDataException($"{where}: unknown dtype code {code}.");
        var dtype = (ScalarType)(sbyte)code;
        long rank = Leb128(r, where, "rank");
        if (rank > MaxRank) throw new InvalidDataException($"{where}: rank {rank} exceeds {MaxRank}.");
        var shape = new long[rank];
        long left = r.BaseStream.Length - r.BaseStream.Position;
        long elements = 1;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = Leb128(r, where, "dimension");
            elements = shape[d] == 0 || elements == 0 ? 0 : elements > left / shape[d] ? long.MaxValue : elements * shape[d];
        }
        int size = ElementSize(dtype, where);
        left = r.BaseStream.Length - r.BaseStream.Position;
        if (elements == long.MaxValue || elements > left / size)
            throw new InvalidDataException($"{where}: a tensor of shape [{string.Join(", ", shape)}] needs more bytes than the {left} left.");
        return new TensorHeader(dtype, shape, elements * size);
    }

    /// <summary>An unsigned LEB128 number (TorchSharp's <c>Encode</c>), at most 9 bytes (63 bits).</summary>
    public static long Leb128(BinaryReader r, string where, string what)
    {
        long result = 0;
        for (int i = 0; i < 9; i++)
        {
            if (r.BaseStream.Position >= r.BaseStream.Length) throw new InvalidDataException($"{where}: truncated {what}.");
            byte b = r.ReadByte();
            result |= (long)(b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException($"{where}: {what} is not a valid number.");
    }

    /// <summary>A <see cref="BinaryWriter.Write(string)"/> string whose claimed length is checked first.</summary>
    public static string DotNetString(BinaryReader r, string where)
    {
        int length = 0;
        for (int i = 0; ; i++)
        {
            if (i == 5 || r.BaseStream.Position >= r.BaseStream.Length) throw new InvalidDataException($"{where}: malformed key.");
            byte b = r.ReadByte();
            length |= (b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) break;
        }
        if (length < 0 || length > r.BaseStream.Length - r.BaseStream.Position)
            throw new InvalidDataException($"{where}: a key claims {length} bytes, more than the section holds.");
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(r.ReadBytes(length)); }
        catch (DecoderFallbackException e) { throw new InvalidDataException($"{where}: a key is not UTF-8.", e); }
    }

    private static int ElementSize(ScalarType t, string where) => t switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new InvalidDataException($"{where}: dtype {t} is not supported in checkpoints."),
    };
}
