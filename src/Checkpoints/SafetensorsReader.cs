using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Checkpoints;

/// <summary>
/// Reads a safetensors file (8-byte little-endian header length, a JSON header of
/// <c>{"name": {"dtype", "shape", "data_offsets"}}</c>, then the data) without trusting it: the header length, every
/// shape and every offset pair are checked against the file's real length before anything is allocated, and any
/// malformation is an <see cref="InvalidDataException"/> naming the file.
/// </summary>
/// <remarks>Why not TorchSharp.PyBridge's reader: it lets JSON, range and "not implemented" exceptions escape and
/// allocates what the header claims before checking it (a 100-byte file can ask for gigabytes).</remarks>
internal static class SafetensorsReader
{
    /// <summary>The safetensors format's own limit on the header (100 MB).</summary>
    private const long MaxHeader = 100_000_000;

    private sealed record Entry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

    /// <summary>Reads every tensor (CPU); the caller owns them.</summary>
    /// <param name="path">An existing file.</param>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = f.Length;
        if (fileLength < 8) throw Bad(path, $"it has {fileLength} bytes, fewer than the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        f.ReadExactly(lengthBytes);
        ulong headerLength = BitConverter.ToUInt64(lengthBytes);
        if (!BitConverter.IsLittleEndian) headerLength = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(headerLength);
        if (headerLength > (ulong)(fileLength - 8) || headerLength > MaxHeader)
            throw Bad(path, $"its header claims {headerLength} bytes but the file has {fileLength - 8} after the length field");
        var header = new byte[headerLength];
        f.ReadExactly(header);
        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;
        var entries = ParseHeader(header, dataLength, path);

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in entries)
            {
                var t = empty(e.Shape, e.DType, CPU).DetachFromDisposeScope();
                result.Add(e.Name, t);
                f.Position = dataStart + e.Begin;
                if (e.End > e.Begin) t.ReadBytesFromStream(f);
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    private static List<Entry> ParseHeader(byte[] header, long dataLength, string path)
    {
        var entries = new List<Entry>();
        try
        {
            using var doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "its header is not a JSON object");
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__") continue;
                var v = p.Value;
                if (v.ValueKind != JsonValueKind.Object) throw Bad(path, $"tensor '{p.Name}' is not described by an object");
                var dtypeName = Need(v, "dtype", JsonValueKind.String, p.Name, path).GetString()!;
                var dtype = DType(dtypeName) ?? throw Bad(path, $"tensor '{p.Name}' has dtype '{dtypeName}', which Ctm.Core does not read (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
                var shapeJson = Need(v, "shape", JsonValueKind.Array, p.Name, path);
                var offsets = Need(v, "data_offsets", JsonValueKind.Array, p.Name, path);
                if (shapeJson.GetArrayLength() > 64) throw Bad(path, $"tensor '{p.Name}' has rank {shapeJson.GetArrayLength()}");
                var shape = new long[shapeJson.GetArrayLength()];
                long bytes = ElementSize(dtype);
                int i = 0;
                foreach (var d in shapeJson.EnumerateArray())
                {
                    if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long n) || n < 0)
                        throw Bad(path, $"tensor '{p.Name}' has a dimension that is not a non-negative integer");
                    shape[i++] = n;
                    bytes = n == 0 || bytes == 0 ? 0 : bytes > dataLength / n ? long.MaxValue : bytes * n;
                }
                if (offsets.GetArrayLength() != 2) throw Bad(path, $"tensor '{p.Name}' needs data_offsets [begin, end]");
                long begin = Offset(offsets[0], p.Name, path), end = Offset(offsets[1], p.Name, path);
                if (begin > end || end > dataLength)
                    throw Bad(path, $"tensor '{p.Name}' has data_offsets [{begin}, {end}] outside the {dataLength} data bytes");
                if (bytes != end - begin)
                    throw Bad(path, $"tensor '{p.Name}' of shape [{string.Join(", ", shape)}] ({dtypeName}) needs " +
                        (bytes == long.MaxValue ? "more bytes than the file has" : $"{bytes} bytes") + $" but data_offsets span {end - begin}");
                entries.Add(new Entry(p.Name, dtype, shape, begin, end));
            }
        }
        catch (JsonException e) { throw Bad(path, "its header is not valid JSON (" + e.Message + ")", e); }
        catch (ArgumentException e) { throw Bad(path, "its header is not valid UTF-8 JSON (" + e.Message + ")", e); }
        catch (InvalidOperationException e) { throw Bad(path, "its header is malformed (" + e.Message + ")", e); }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
            if (!names.Add(e.Name)) throw Bad(path, $"tensor '{e.Name}' appears twice");
        return entries;
    }

    private static JsonElement Need(JsonElement v, string key, JsonValueKind kind, string name, string path) =>
        v.TryGetProperty(key, out var e) && e.ValueKind == kind ? e : throw Bad(path, $"tensor '{name}' lacks a valid \"{key}\"");

    private static long Offset(JsonElement e, string name, string path) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) && v >= 0 ? v
            : throw Bad(path, $"tensor '{name}' has a data offset that is not a non-negative integer");

    private static ScalarType? DType(string name) => name switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => null,
    };

    private static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    internal static InvalidDataException Bad(string path, string what, Exception? inner = null) =>
        new($"'{path}' is not a readable safetensors file: {what}. Write it with safetensors.torch.save_file or module.save_safetensors.", inner);
}
