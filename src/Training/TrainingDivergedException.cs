using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Ctm.Core.Training;

/// <summary>The training loss became NaN or infinite. No weight was updated by the failing iteration.</summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">Iteration that failed.</param>
    /// <param name="terms">The loss terms of that iteration by name (the non-finite ones are the culprits).</param>
    public TrainingDivergedException(long step, IReadOnlyDictionary<string, double> terms)
        : base($"The training loss is not finite at iteration {step} ({Describe(terms)}). No weights were changed; the last " +
               "checkpoint is intact. Lower the learning rate, check the data for NaN/Inf and its scale (σ_data), then resume.")
    {
        Step = step;
        Terms = new Dictionary<string, double>(terms);
    }

    /// <summary>Iteration that failed.</summary>
    public long Step { get; }

    /// <summary>The loss terms of the failing iteration by name.</summary>
    public IReadOnlyDictionary<string, double> Terms { get; }

    private static string Describe(IReadOnlyDictionary<string, double> terms) =>
        terms is null || terms.Count == 0 ? "no terms" : string.Join(", ", terms.Select(kv => $"{kv.Key} {kv.Value.ToString(CultureInfo.InvariantCulture)}"));
}
