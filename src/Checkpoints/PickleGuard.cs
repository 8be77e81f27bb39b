using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;

namespace Ctm.Core.Checkpoints;

/// <summary>
/// Checks a PyTorch zip checkpoint (<c>torch.save</c>) before the unpickler sees it, so that no claim in the file can
/// make the reader allocate more than the file holds: every zip entry's size, every length-prefixed pickle argument,
/// every storage's element count and every tensor's extent are checked against the bytes actually present.
/// </summary>
/// <remarks>
/// <para>It runs the pickle program on a small stack machine that knows only the opcodes a state dict uses (protocols 2
/// to 5: dicts, tuples, strings, integers, globals, persistent ids, REDUCE, BUILD, memo); it never constructs anything,
/// so no code in the file runs. Anything else is refused, and so is any global outside <c>torch</c> and
/// <c>collections</c>.</para>
/// <para>Each <c>torch._utils._rebuild_tensor(_v2)</c> call names its storage (<c>data/&lt;key&gt;</c>), dtype, offset,
/// shape and stride; the storage entry must hold every element the tensor can reach and at least the element count
/// the storage claims.</para>
/// </remarks>
internal static class PickleGuard
{
    private sealed record Global(string Module, string Name);
    private sealed record PersId(object? Id);
    private sealed record Call(object? Callable, object? Args);
    private sealed class Mark { public static readonly Mark Instance = new(); }
    private sealed class Opaque { public static readonly Opaque Instance = new(); }

    /// <summary>Checks the file; throws <see cref="InvalidDataException"/> naming it when anything is out of bounds.</summary>
    public static void Check(string path)
    {
        long fileLength = new FileInfo(path).Length;
        try
        {
            using var archive = new ZipArchive(File.OpenRead(path), ZipArchiveMode.Read, leaveOpen: false);
            foreach (var e in archive.Entries)
                if (e.Length > fileLength)
                    throw Bad(path, $"zip entry '{e.FullName}' claims {e.Length} bytes, more than the {fileLength}-byte file (a PyTorch checkpoint stores its entries uncompressed)");
            var pkl = archive.Entries.FirstOrDefault(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal))
                ?? throw Bad(path, "it has no data.pkl entry");
            var bytes = new byte[pkl.Length];
            using (var s = pkl.Open()) s.ReadExactly(bytes);
            var storages = archive.Entries.ToDictionary(e => e.FullName, e => e.Length, StringComparer.Ordinal);
            Run(bytes, storages, path);
        }
        catch (Exception e) when (e is not InvalidDataException || !e.Message.Contains(path, StringComparison.Ordinal))
        {
            if (e is OutOfMemoryException) throw;
            throw Bad(path, "its zip container or pickle is malformed (" + e.Message + ")", e);
        }
    }

    private static void Run(byte[] p, Dictionary<string, long> entries, string path)
    {
        var stack = new List<object?>();
        var memo = new Dictionary<long, object?>();
        int i = 0;
        ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || n > p.Length - i) throw Bad(path, $"a pickle argument at byte {i} claims {n} bytes but {p.Length - i} remain");
            var span = p.AsSpan(i, n);
            i += n;
            return span;
        }
        int Len32() { int n = BinaryPrimitives.ReadInt32LittleEndian(Take(4)); return n; }
        int Len64() { long n = BinaryPrimitives.ReadInt64LittleEndian(Take(8)); return n < 0 || n > p.Length ? -1 : (int)n; }
        string Line()
        {
            int end = Array.IndexOf(p, (byte)'\n', i);
            if (end < 0) throw Bad(path, "an unterminated GLOBAL");
            var s = Encoding.UTF8.GetString(p, i, end - i);
            i = end + 1;
            return s;
        }
        object? Pop()
        {
            if (stack.Count == 0) throw Bad(path, $"the pickle pops an empty stack at byte {i}");
            var o = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return o;
        }
        List<object?> PopToMark()
        {
            int m = stack.FindLastIndex(o => o is Mark);
            if (m < 0) throw Bad(path, "the pickle has no MARK where one is needed");
            var items = stack.GetRange(m + 1, stack.Count - m - 1);
            stack.RemoveRange(m, stack.Count - m);
            return items;
        }
        object? Top() => stack.Count > 0 ? stack[^1] : throw Bad(path, $"the pickle reads an empty stack at byte {i}");

        while (true)
        {
            if (i >= p.Length) throw Bad(path, "the pickle ends without STOP");
            byte op = p[i++];
            switch (op)
            {
                case 0x80: Take(1); break;                                   // PROTO
                case 0x95: Take(8); break;                                   // FRAME
                case 0x2e: return;                                           // STOP
                case 0x7d: case 0x5d: stack.Add(Opaque.Instance); break;     // EMPTY_DICT, EMPTY_LIST
                case 0x29: stack.Add(Array.Empty<object?>()); break;         // EMPTY_TUPLE
                case 0x28: stack.Add(Mark.Instance); break;                  // MARK
                case 0x71: memo[Take(1)[0]] = Top(); break;                  // BINPUT
                case 0x72: memo[(uint)Len32()] = Top(); break;               // LONG_BINPUT
                case 0x94: memo[memo.Count] = Top(); break;                  // MEMOIZE
                case 0x68: stack.Add(Memo(memo, Take(1)[0], path)); break;   // BINGET
                case 0x6a: stack.Add(Memo(memo, (uint)Len32(), path)); break; // LONG_BINGET
                case 0x58: stack.Add(Utf8(Take(Len32()), path)); break;      // BINUNICODE
                case 0x8c: stack.Add(Utf8(Take(Take(1)[0]), path)); break;   // SHORT_BINUNICODE
                case 0x8d: stack.Add(Utf8(Take(Len64()), path)); break;      // BINUNICODE8
                case 0x54: case 0x42: Take(Len32()); stack.Add(Opaque.Instance); break;   // BINSTRING, BINBYTES
                case 0x55: case 0x43: Take(Take(1)[0]); stack.Add(Opaque.Instance); break; // SHORT_BINSTRING, SHORT_BINBYTES
                case 0x8e: case 0x96: Take(Len64()); stack.Add(Opaque.Instance); break;   // BINBYTES8, BYTEARRAY8
                case 0x63: stack.Add(Allowed(new Global(Line(), Line()), path)); break; // GLOBAL
                case 0x93: { var name = Pop(); var module = Pop(); stack.Add(Allowed(new Global(module as string ?? "", name as string ?? ""), path)); break; } // STACK_GLOBAL
                case 0x51: stack.Add(new PersId(CheckStorage(Pop(), entries, path))); break; // BINPERSID
                case 0x74: stack.Add(PopToMark().ToArray()); break;          // TUPLE
                case 0x85: stack.Add(new[] { Pop() }); break;                // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); stack.Add(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); stack.Add(new[] { a, b, c }); break; } // TUPLE3
                case 0x4a: stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
                case 0x4b: stack.Add((long)Take(1)[0]); break;               // BININT1
                case 0x4d: stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                case 0x8a: stack.Add(Long(Take(Take(1)[0]))); break;         // LONG1
                case 0x8b: stack.Add(Long(Take(Len32()))); break;            // LONG4
                case 0x88: stack.Add(true); break;                           // NEWTRUE
                case 0x89: stack.Add(false); break;                          // NEWFALSE
                case 0x4e: stack.Add(null); break;                           // NONE
                case 0x47: Take(8); stack.Add(Opaque.Instance); break;       // BINFLOAT
                case 0x52: case 0x81:                                        // REDUCE, NEWOBJ
                {
                    var args = Pop(); var callable = Pop();
                    if (callable is Global g && g.Module == "torch._utils" && g.Name.StartsWith("_rebuild_tensor", StringComparison.Ordinal))
                        CheckTensor(args, path);
                    stack.Add(new Call(callable, args));
                    break;
                }
                case 0x62: Pop(); break;                                     // BUILD (state applied to the object below)
                case 0x73: Pop(); Pop(); break;                              // SETITEM
                case 0x75: case 0x65: PopToMark(); break;                    // SETITEMS, APPENDS
                case 0x61: Pop(); break;                                     // APPEND
                case 0x30: Pop(); break;                                     // POP
                case 0x31: PopToMark(); break;                               // POP_MARK
                case 0x32: stack.Add(Top()); break;                          // DUP
                default:
                    throw Bad(path, $"its pickle uses opcode 0x{op:x2} at byte {i - 1}, which a state dict does not need");
            }
        }
    }

    // A state dict refers only to torch's rebuild functions and storage types and to collections.OrderedDict.
    private static Global Allowed(Global g, string path) =>
        g.Module == "collections" || g.Module == "torch" || g.Module.StartsWith("torch.", StringComparison.Ordinal) ? g
            : throw Bad(path, $"its pickle refers to {g.Module}.{g.Name}, which a state dict never does (the file may be hostile; nothing in it was run)");

    // The storage persistent id: ("storage", <dtype>Storage, key, location, numel). Its entry must hold numel elements.
    private static object? CheckStorage(object? pid, Dictionary<string, long> entries, string path)
    {
        if (pid is not object?[] t || t.Length < 5 || t[0] as string != "storage" || t[1] is not Global storage || t[2] is not string key || t[4] is not long numel)
            throw Bad(path, "it has a persistent id that is not a tensor storage");
        int size = ElementSize(storage.Name) ?? throw Bad(path, $"storage '{key}' has type {storage.Name}, which Ctm.Core does not read");
        var entry = entries.Keys.FirstOrDefault(k => k.EndsWith("data/" + key, StringComparison.Ordinal))
            ?? throw Bad(path, $"storage '{key}' has no data/{key} entry");
        long bytes = entries[entry];
        if (numel < 0 || numel > bytes / size)
            throw Bad(path, $"storage '{key}' claims {numel} elements of {size} bytes but its entry holds {bytes} bytes");
        return new StorageInfo(key, numel);
    }

    private sealed record StorageInfo(string Key, long Elements);

    // _rebuild_tensor_v2(storage, storage_offset, size, stride, ...): every reachable element must lie in the storage.
    private static void CheckTensor(object? args, string path)
    {
        if (args is not object?[] a || a.Length < 4 || a[0] is not PersId { Id: StorageInfo s } || a[1] is not long offset
            || a[2] is not object?[] shape || a[3] is not object?[] stride || shape.Length != stride.Length || shape.Length > 64)
            throw Bad(path, "a tensor is described by arguments that are not (storage, offset, shape, stride)");
        if (offset < 0) throw Bad(path, $"a tensor of storage '{s.Key}' has a negative offset");
        long last = offset, count = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] is not long n || n < 0 || stride[d] is not long st || st < 0)
                throw Bad(path, $"a tensor of storage '{s.Key}' has a size or stride that is not a non-negative integer");
            if (n == 0) { count = 0; break; }
            if (n > s.Elements || (st > 0 && n - 1 > (s.Elements - last) / st)) throw Bad(path, $"a tensor of storage '{s.Key}' reaches past its {s.Elements} elements");
            last += (n - 1) * st;
            count = count > s.Elements / n ? long.MaxValue : count * n;
        }
        if (count > 0 && (last >= s.Elements || count > s.Elements))
            throw Bad(path, $"a tensor of storage '{s.Key}' (offset {offset}, shape [{string.Join(", ", shape)}]) needs more than its {s.Elements} elements");
    }

    private static object? Memo(Dictionary<long, object?> memo, long key, string path) =>
        memo.TryGetValue(key, out var v) ? v : throw Bad(path, $"the pickle reads memo slot {key}, which was never written");

    private static string Utf8(ReadOnlySpan<byte> bytes, string path)
    {
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException e) { throw Bad(path, "a pickle string is not UTF-8", e); }
    }

    private static object Long(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return 0L;
        if (bytes.Length > 8) return Opaque.Instance;
        long v = (sbyte)bytes[^1];
        for (int k = bytes.Length - 2; k >= 0; k--) v = (v << 8) | bytes[k];
        return v;
    }

    private static int? ElementSize(string storage) => storage switch
    {
        "DoubleStorage" or "LongStorage" or "ComplexFloatStorage" => 8,
        "FloatStorage" or "IntStorage" => 4,
        "HalfStorage" or "BFloat16Storage" or "ShortStorage" => 2,
        "CharStorage" or "ByteStorage" or "BoolStorage" => 1,
        "ComplexDoubleStorage" => 16,
        _ => null,
    };

    private static InvalidDataException Bad(string path, string what, Exception? inner = null) =>
        new($"'{path}' is not a readable PyTorch state dict: {what}. Save it in Python with torch.save(model.state_dict(), path).", inner);
}
