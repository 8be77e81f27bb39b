using System;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Networks;

/// <summary>
/// PyTorch's default initialisation of <c>Linear</c> and <c>Conv*</c> layers — weight and bias ~ U(−1/√fan_in, 1/√fan_in)
/// — drawn from an explicit generator, so a network built with a seed is the same in every process. TorchSharp's own
/// constructors draw from the global RNG.
/// </summary>
public static class DefaultInit
{
    /// <summary>Re-draws the weight and bias of every Linear and convolution inside <paramref name="module"/>.</summary>
    /// <param name="module">The network (borrowed; its parameters are overwritten in place).</param>
    /// <param name="generator">Source of the draws (on the parameters' device).</param>
    public static void Redraw(nn.Module module, Generator generator)
    {
        if (module is null) throw new ArgumentNullException(nameof(module));
        if (generator is null) throw new ArgumentNullException(nameof(generator));
        using var noGrad = no_grad();
        foreach (var m in module.modules().Prepend(module))
        {
            if (m is not (Linear or Conv1d or Conv2d or Conv3d)) continue;
            var weight = m.named_parameters(recurse: false).First(p => p.name == "weight").parameter;
            long fanIn = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            double bound = 1.0 / Math.Sqrt(fanIn);
            foreach (var (_, p) in m.named_parameters(recurse: false)) p.uniform_(-bound, bound, generator);
        }
    }
}
