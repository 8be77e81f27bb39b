using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace Ctm.Core.Training;

/// <summary>
/// A checkpoint container: named binary sections, a SHA-256 trailer, written atomically (temp file, flush, rename),
/// so a crash mid-write never leaves a half checkpoint under the real name, and a truncated or altered file is
/// rejected on load with a clear error.
/// </summary>
/// <remarks>Layout: "CTMCKPT1", int32 section count, per section (string name, int64 length, bytes), then "END!" and
/// the SHA-256 of everything before it. A save first deletes the temporary files an interrupted save of the same
/// checkpoint left behind.</remarks>
internal static class CheckpointFile
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("CTMCKPT1");
    private static readonly byte[] EndMark = Encoding.ASCII.GetBytes("END!");

    /// <summary>Writes the sections to <paramref name="path"/> atomically.</summary>
    /// <param name="path">Destination file.</param>
    /// <param name="sections">Named payloads.</param>
    public static void Write(string path, IReadOnlyDictionary<string, byte[]> sections)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("path must name a file.", nameof(path));
        if (sections is null) throw new ArgumentNullException(nameof(sections));
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(sections.Count);
            foreach (var (name, bytes) in sections)
            {
                w.Write(name);
                w.Write((long)bytes.Length);
                w.Write(bytes);
            }
            w.Write(EndMark);
        }
        var hash = SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length));
        DeleteStaleTemporaries(full);
        var tmp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var f = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                body.Position = 0;
                body.CopyTo(f);
                f.Write(hash);
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>Reads and verifies a checkpoint.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a Ctm.Core checkpoint, or is truncated or corrupt.</exception>
    public static Dictionary<string, byte[]> Read(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("path must name a checkpoint file.", nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"No checkpoint at '{path}'.", path);
        var all = File.ReadAllBytes(path);
        if (all.Length < Magic.Length + 4 + EndMark.Length + 32 || !all.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException($"'{path}' is not a Ctm.Core checkpoint or is truncated ({all.Length} bytes); it was not loaded.");
        int bodyLength = all.Length - 32;
        var expected = SHA256.HashData(all.AsSpan(0, bodyLength));
        if (!expected.AsSpan().SequenceEqual(all.AsSpan(bodyLength)) || !all.AsSpan(bodyLength - EndMark.Length, EndMark.Length).SequenceEqual(EndMark))
            throw new InvalidDataException($"Checkpoint '{path}' is truncated or corrupt (checksum mismatch); it was not loaded. Resume from an earlier checkpoint.");
        // The checksum only proves the file is what some writer wrote, not that the writer was Ctm.Core: every count and
        // length is checked against the bytes that are actually there before anything is allocated for it.
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        int end = bodyLength - EndMark.Length;
        try
        {
            using var r = new BinaryReader(new MemoryStream(all, 0, end), Encoding.UTF8);
            r.ReadBytes(Magic.Length);
            int count = r.ReadInt32();
            if (count < 0 || count > end)
                throw Bad(path, $"it claims {count} sections");
            for (int i = 0; i < count; i++)
            {
                var name = r.ReadString();
                long length = r.ReadInt64();
                long left = end - r.BaseStream.Position;
                if (length < 0 || length > left)
                    throw Bad(path, $"section '{name}' claims {length} bytes but {left} remain");
                if (!result.TryAdd(name, r.ReadBytes((int)length)))
                    throw Bad(path, $"section '{name}' appears twice");
            }
            if (r.BaseStream.Position != end)
                throw Bad(path, $"{end - r.BaseStream.Position} bytes follow the last section");
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException or ArgumentException)
        {
            throw Bad(path, "its section table is malformed (" + e.Message + ")", e);
        }
        return result;
    }

    /// <summary>
    /// Deletes the temporary files (<c>name.tmp-&lt;guid&gt;</c>) an interrupted <see cref="Write"/> of the same checkpoint
    /// left behind (a process killed between creating and renaming one). Best effort: a file another process still
    /// holds open is left for the next save.
    /// </summary>
    /// <param name="full">The checkpoint's full path.</param>
    internal static void DeleteStaleTemporaries(string full)
    {
        var dir = Path.GetDirectoryName(full)!;
        var prefix = Path.GetFileName(full) + ".tmp-";
        foreach (var f in Directory.EnumerateFiles(dir, prefix + "*"))
        {
            var suffix = Path.GetFileName(f).Substring(prefix.Length);
            if (suffix.Length != 32 || !Guid.TryParseExact(suffix, "N", out _)) continue;
            try { File.Delete(f); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private static InvalidDataException Bad(string path, string what, Exception? inner = null) =>
        new($"Checkpoint '{path}' is not a valid Ctm.Core checkpoint: {what}; it was not loaded. Resume from an earlier checkpoint.", inner);
}
