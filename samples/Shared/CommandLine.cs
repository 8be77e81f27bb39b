using System;
using System.Globalization;
using System.Linq;

namespace Ctm.Samples;

/// <summary>
/// The samples' flag parsing: <c>--name value</c> options and bare <c>--flag</c> switches. A value that starts with
/// <c>--</c> is the next flag, not a value, so <c>--cache --out DIR</c> leaves <c>--cache</c> at its default.
/// </summary>
public sealed class CommandLine
{
    private readonly string[] _args;

    /// <summary>Wraps the program's arguments.</summary>
    public CommandLine(string[] args) => _args = args;

    /// <summary>True if the switch is present.</summary>
    public bool Flag(string name) => _args.Contains(name);

    /// <summary>The value after <paramref name="name"/>, or <paramref name="fallback"/> if absent or followed by a flag.</summary>
    public string Value(string name, string fallback)
    {
        int i = Array.IndexOf(_args, name);
        return i >= 0 && i + 1 < _args.Length && !_args[i + 1].StartsWith("--", StringComparison.Ordinal) ? _args[i + 1] : fallback;
    }

    /// <summary>An integer option.</summary>
    public int Int(string name, int fallback) => int.Parse(Value(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>An unsigned 64-bit option (seeds).</summary>
    public ulong UInt64(string name, ulong fallback) => ulong.Parse(Value(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>A floating-point option (invariant culture: <c>4e-4</c>, <c>0.5</c>).</summary>
    public double Number(string name, double fallback) =>
        double.Parse(Value(name, fallback.ToString("R", CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
}
