using static TorchSharp.torch;

namespace Ctm.Core;

/// <summary>
/// What a trainer needs from a model beyond its math: the one <see cref="nn.Module"/> that holds its weights. Trainers
/// optimise its parameters, switch it to training mode, keep EMA copies of it and save it in checkpoints.
/// </summary>
/// <remarks>
/// <see cref="Models.CtmTrajectoryModel"/> and <see cref="Models.EdmDenoiser"/> implement it; so can a user's own
/// <see cref="ITrajectoryModel"/> or <see cref="IDenoiser"/> whose weights live in one module. Analytic models have no
/// weights and do not. The module is borrowed: trainers never dispose it.
/// </remarks>
public interface ITrainableModel : IDenoiser
{
    /// <summary>The module holding every trained weight of the model (borrowed).</summary>
    nn.Module Network { get; }
}
