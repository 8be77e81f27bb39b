using System;
using System.Collections.Generic;
using System.Linq;

namespace Ctm.Core.Training;

/// <summary>The term names <see cref="CtmLoss"/> reports in <see cref="CtmLossBreakdown.Terms"/> and <see cref="CtmLossBreakdown.Weights"/>.</summary>
public static class CtmLossTerms
{
    /// <summary>L_CTM, the soft consistency matching loss.</summary>
    public const string Ctm = "ctm";

    /// <summary>L_DSM, denoising score matching on the diagonal.</summary>
    public const string Dsm = "dsm";

    /// <summary>L_G = −E[D(x_est)], the generator's hinge term.</summary>
    public const string GanGenerator = "gan_g";

    /// <summary>The discriminator's hinge loss (discriminator iterations only).</summary>
    public const string GanDiscriminator = "gan_d";
}

/// <summary>
/// The parts of one CTM objective evaluation, as numbers for logging and progress. Only the terms that were computed
/// are present: a part that is off (DSM weight 0, the GAN before its start step) is absent, never NaN, so a NaN in
/// <see cref="Terms"/> always means divergence.
/// </summary>
public sealed class CtmLossBreakdown
{
    private static readonly IReadOnlyDictionary<string, double> None = new Dictionary<string, double>();

    /// <summary>Creates a breakdown.</summary>
    /// <param name="terms">Value of each computed term by name (e.g. <see cref="CtmLossTerms.Ctm"/>); a custom loss adds its own names.</param>
    /// <param name="weights">λ applied to each weighted term by name (e.g. the adaptive λ_DSM under <see cref="CtmLossTerms.Dsm"/>).</param>
    /// <param name="k">Teacher steps k between t and u this iteration (0 if not applicable).</param>
    public CtmLossBreakdown(IReadOnlyDictionary<string, double> terms, IReadOnlyDictionary<string, double>? weights = null, int k = 0)
    {
        Terms = new Dictionary<string, double>(terms ?? throw new ArgumentNullException(nameof(terms)));
        Weights = weights is null ? None : new Dictionary<string, double>(weights);
        K = k;
    }

    /// <summary>Each computed term by name.</summary>
    public IReadOnlyDictionary<string, double> Terms { get; }

    /// <summary>The λ applied to each weighted term by name.</summary>
    public IReadOnlyDictionary<string, double> Weights { get; }

    /// <summary>Teacher steps k between t and u this iteration.</summary>
    public int K { get; }

    /// <summary>L_CTM, or null if not computed (discriminator iterations).</summary>
    public double? Ctm => Term(CtmLossTerms.Ctm);

    /// <summary>L_DSM, or null if off or not computed.</summary>
    public double? Dsm => Term(CtmLossTerms.Dsm);

    /// <summary>L_G, or null if the GAN term was not part of this iteration.</summary>
    public double? GanGenerator => Term(CtmLossTerms.GanGenerator);

    /// <summary>The discriminator's hinge loss, or null on generator iterations.</summary>
    public double? GanDiscriminator => Term(CtmLossTerms.GanDiscriminator);

    /// <summary>λ_DSM used (adaptive or 1), or null when DSM was not computed.</summary>
    public double? LambdaDsm => Weights.TryGetValue(CtmLossTerms.Dsm, out var v) ? v : null;

    /// <summary>λ_GAN used (adaptive, clipped to [0.01, 10], or 1), or null when the GAN term was not computed.</summary>
    public double? LambdaGan => Weights.TryGetValue(CtmLossTerms.GanGenerator, out var v) ? v : null;

    /// <summary>Whether every computed term is finite.</summary>
    public bool IsFinite => Terms.Values.All(double.IsFinite);

    /// <summary>A term by name, or null if it was not computed.</summary>
    /// <param name="name">The term's name.</param>
    public double? Term(string name) => Terms.TryGetValue(name, out var v) ? v : null;

    /// <summary>The computed terms as "name value" pairs, e.g. <c>ctm 1.2E-003, dsm 0.412</c>.</summary>
    public override string ToString() => string.Join(", ", Terms.Select(kv =>
        kv.Key + " " + kv.Value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) +
        (Weights.TryGetValue(kv.Key, out var w) ? $" (λ {w.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)})" : "")));
}
