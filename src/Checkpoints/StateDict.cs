using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Ctm.Core.Checkpoints;

/// <summary>
/// Reads PyTorch state dicts (<c>torch.save(model.state_dict())</c> zip files: .pth/.pt/.bin) and safetensors files
/// through TorchSharp.PyBridge, and copies them into a module with strict, named checks.
/// </summary>
/// <remarks>
/// The official CTM code saves the student as <c>EDMPrecond_CTM</c>, whose network is the attribute <c>model</c>, so
/// its keys start with <c>model.</c>; EDM teacher pickles converted to state dicts may or may not. <see cref="Load(nn.Module, string, string?, bool)"/>
/// strips such a prefix automatically when every file key carries it and the module's keys do not.
/// Ownership: <see cref="Read"/> returns new tensors the caller disposes (<see cref="DisposeAll"/>); <see cref="Load(nn.Module, string, string?, bool)"/>
/// disposes what it read and leaves the module's own tensors in place (values copied under <c>no_grad</c>).
/// </remarks>
public static class StateDict
{
    /// <summary>Reads every tensor of a .pth/.pt/.bin (PyTorch zip) or .safetensors file, on the CPU.</summary>
    /// <param name="path">File path. The format is detected from the file's first bytes.</param>
    /// <returns>Key → tensor (caller owns the tensors).</returns>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed PyTorch zip state dict or safetensors file
    /// (the message names it). Every size the file claims is checked against its length before anything is allocated.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("Pass the path of a .pth or .safetensors file.", nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"State-dict file not found: '{path}'.", path);
        var head = new byte[4];
        using (var f = File.OpenRead(path)) _ = f.Read(head, 0, 4);
        bool zip = head[0] == 0x50 && head[1] == 0x4b && head[2] == 0x03 && head[3] == 0x04;
        if (zip)
        {
            PickleGuard.Check(path);   // every size the file claims is checked against the file first
            Hashtable table;
            try { table = PyTorchUnpickler.UnpickleStateDict(path); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidDataException($"'{path}' is a zip file but not a readable PyTorch state dict ({e.Message}). Save it in Python with torch.save(model.state_dict(), path).", e);
            }
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DictionaryEntry e in table)
                if (e.Value is Tensor t)
                {
                    if (e.Key is string k) result[k] = t;
                    else t.Dispose();
                }
            return result;
        }
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return SafetensorsReader.Read(path);
        throw new InvalidDataException($"'{path}' is neither a PyTorch zip state dict (torch.save, PyTorch ≥ 1.6) nor a .safetensors file. " +
            "Re-save it in Python with torch.save(model.state_dict(), 'file.pth') or safetensors.torch.save_file.");
    }

    /// <summary>
    /// Loads a state-dict file into <paramref name="module"/>: every module key must be present with the same shape;
    /// extra file keys are an error unless <paramref name="strict"/> is false.
    /// </summary>
    /// <param name="module">Destination (its tensors keep their device and dtype; values are converted).</param>
    /// <param name="path">A .pth/.pt/.bin or .safetensors file.</param>
    /// <param name="prefix">Prefix to strip from file keys (e.g. <c>"model."</c>); null = detect; "" = none.</param>
    /// <param name="strict">Whether keys in the file that the module lacks are an error.</param>
    /// <exception cref="StateDictMismatchException">Missing, unexpected or mis-shaped keys, all named.</exception>
    public static void Load(nn.Module module, string path, string? prefix = null, bool strict = true)
    {
        if (module is null) throw new ArgumentNullException(nameof(module));
        var source = Read(path);
        try { Load(module, source, prefix, strict, path); }
        finally { DisposeAll(source); }
    }

    /// <summary>
    /// Copies an in-memory state dict into <paramref name="module"/> with the same checks as the file overload. All or
    /// nothing: when anything does not fit, the module is left exactly as it was.
    /// </summary>
    /// <param name="module">Destination.</param>
    /// <param name="source">Key → tensor (borrowed).</param>
    /// <param name="prefix">Prefix to strip; null = detect (<c>"model."</c>); "" = none.</param>
    /// <param name="strict">Whether unexpected keys are an error.</param>
    /// <param name="origin">Where the dict came from, for messages.</param>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> source, string? prefix = null, bool strict = true, string origin = "state dict")
    {
        if (module is null) throw new ArgumentNullException(nameof(module));
        if (source is null) throw new ArgumentNullException(nameof(source));
        var target = module.state_dict();
        foreach (var (key, value) in source)
            if (value is null || value.IsInvalid)
                throw new ArgumentException($"The {origin}'s tensor '{key}' is null or disposed.", nameof(source));
        prefix ??= DetectPrefix(source.Keys, target.Keys);
        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in source)
            if (key.StartsWith(prefix, StringComparison.Ordinal)) renamed[key[prefix.Length..]] = value;
            else if (strict) renamed[key] = value;

        var missing = target.Keys.Where(k => !renamed.ContainsKey(k)).ToList();
        var unexpected = strict ? renamed.Keys.Where(k => !target.ContainsKey(k)).ToList() : new List<string>();
        var mismatched = target.Where(kv => renamed.TryGetValue(kv.Key, out var s) && !s.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key}: file [{string.Join(", ", renamed[kv.Key].shape)}] vs module [{string.Join(", ", kv.Value.shape)}]").ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
            throw new StateDictMismatchException(origin, prefix, missing, unexpected, mismatched);

        // All or nothing: convert every source tensor first (the step that can fail: dtype, device, memory), then copy.
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var staged = new List<(Tensor Dst, Tensor Src)>(target.Count);
        foreach (var (key, dst) in target) staged.Add((dst, renamed[key].to(dst.dtype, dst.device)));
        foreach (var (dst, src) in staged) dst.copy_(src);
    }

    /// <summary>
    /// Loads <paramref name="path"/> into a freshly built <paramref name="network"/> (detecting the <c>model.</c> prefix),
    /// moves it to <paramref name="device"/> and switches it to eval mode; disposes the network if anything fails.
    /// </summary>
    internal static T LoadForInference<T>(T network, string path, Device? device) where T : nn.Module
    {
        try
        {
            Load(network, path);
            if (device is not null) network.to(device);
            network.eval();
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Disposes every tensor of a dictionary returned by <see cref="Read"/>.</summary>
    /// <param name="stateDict">The dictionary.</param>
    public static void DisposeAll(IDictionary<string, Tensor> stateDict)
    {
        if (stateDict is null) return;
        foreach (var t in stateDict.Values) t.Dispose();
        stateDict.Clear();
    }

    private static string DetectPrefix(IEnumerable<string> fileKeys, IEnumerable<string> moduleKeys)
    {
        const string official = "model.";
        var keys = fileKeys.ToList();
        bool fileHas = keys.Count > 0 && keys.All(k => k.StartsWith(official, StringComparison.Ordinal));
        bool moduleHas = moduleKeys.Any(k => k.StartsWith(official, StringComparison.Ordinal));
        return fileHas && !moduleHas ? official : "";
    }
}

/// <summary>A state dict does not fit a module; the message names every offending key.</summary>
public sealed class StateDictMismatchException : InvalidOperationException
{
    internal StateDictMismatchException(string origin, string prefix, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
        : base(Describe(origin, prefix, missing, unexpected, mismatched))
    {
        MissingKeys = missing;
        UnexpectedKeys = unexpected;
        MismatchedKeys = mismatched;
    }

    /// <summary>Module keys absent from the file (after prefix stripping).</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>File keys the module does not have.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Keys present in both with different shapes, as "key: file [..] vs module [..]".</summary>
    public IReadOnlyList<string> MismatchedKeys { get; }

    private static string Describe(string origin, string prefix, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
    {
        static string List(IReadOnlyList<string> keys) => string.Join(", ", keys.Take(20)) + (keys.Count > 20 ? $" … (+{keys.Count - 20} more)" : "");
        var parts = new List<string>();
        if (mismatched.Count > 0) parts.Add($"shape mismatch for {mismatched.Count} key(s): {List(mismatched)}");
        if (missing.Count > 0) parts.Add($"missing key(s) {List(missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected key(s) {List(unexpected)}");
        return $"The {origin} does not fit the module (prefix stripped: '{prefix}'): {string.Join("; ", parts)}. " +
            "Build the network with the configuration the checkpoint was trained with (channels, channel_mult, num_blocks, " +
            "attention resolutions, label_dim, and TrajectoryBranch = true for a CTM student / false for an EDM teacher).";
    }
}
