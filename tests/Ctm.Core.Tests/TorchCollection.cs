using Xunit;

namespace Ctm.Core.Tests;

/// <summary>Tests that touch libtorch run one at a time (global RNG, thread counts, dispose statistics).</summary>
[CollectionDefinition("Torch", DisableParallelization = true)]
public sealed class TorchCollection { }
