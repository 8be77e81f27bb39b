using System;

namespace Ctm.Samples;

/// <summary>An <see cref="IProgress{T}"/> that reports synchronously on the caller's thread (console programs).</summary>
public sealed class SyncProgress<T> : IProgress<T>
{
    private readonly Action<T> _a;
    /// <summary>Wraps the callback.</summary>
    public SyncProgress(Action<T> a) => _a = a;
    public void Report(T value) => _a(value);
}
