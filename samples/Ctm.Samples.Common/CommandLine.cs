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
    public string Value(string name, string fallback) => Raw(name) ?? fallback;

    /// <summary>An integer option.</summary>
    public int Int(string name, int fallback) => Parse(name, fallback, "an integer such as 4000",
        s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null);

    /// <summary>An unsigned 64-bit option (seeds).</summary>
    public ulong UInt64(string name, ulong fallback) => Parse(name, fallback, "a non-negative integer such as 0",
        s => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null);

    /// <summary>A floating-point option (invariant culture: <c>4e-4</c>, <c>0.5</c>).</summary>
    public double Number(string name, double fallback) => Parse(name, fallback, "a number such as 4e-4 or 0.5",
        s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null);

    private string? Raw(string name)
    {
        int i = Array.IndexOf(_args, name);
        return i >= 0 && i + 1 < _args.Length && !_args[i + 1].StartsWith("--", StringComparison.Ordinal) ? _args[i + 1] : null;
    }

    // The option's value if present, else the fallback; a value that does not parse names the option and the form wanted.
    private T Parse<T>(string name, T fallback, string wanted, Func<string, T?> tryParse) where T : struct =>
        Raw(name) is not string s ? fallback
        : tryParse(s) ?? throw new ArgumentException($"{name} {s}: the value must be {wanted}.", name);
}
