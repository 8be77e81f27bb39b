using System;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// Builds CTM losses and trainers with the configured <see cref="CtmTrainingOptions"/> and logging, for hosts that use
/// dependency injection (registered by <c>AddCtm</c>). A trainer is a per-run object over networks the host creates, so
/// the container provides this factory rather than the trainer itself.
/// </summary>
public sealed class CtmTrainerFactory
{
    private readonly CtmTrainingOptions _options;
    private readonly ILoggerFactory _loggers;

    /// <summary>Creates the factory.</summary>
    /// <param name="options">Training options (validated here).</param>
    /// <param name="loggerFactory">Logger factory; none = no logging.</param>
    public CtmTrainerFactory(IOptions<CtmTrainingOptions> options, ILoggerFactory? loggerFactory = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Value.Clone();
        _options.Validate();
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <summary>A copy of the options the factory applies.</summary>
    public CtmTrainingOptions Options => _options.Clone();

    /// <summary>The official objective (<see cref="CtmLoss"/>) with the configured options; the caller owns it (dispose it
    /// after training).</summary>
    /// <param name="student">G_θ.</param>
    /// <param name="target">G_θ⁻.</param>
    /// <param name="teacher">The teacher, or null in teacher-free modes.</param>
    /// <param name="lastLayerWeight">W for the adaptive weights.</param>
    /// <param name="discriminator">The discriminator when the GAN is enabled.</param>
    /// <param name="distance">CTM distance; L2 by default.</param>
    public CtmLoss CreateLoss(ITrajectoryModel student, ITrajectoryModel target, IDenoiser? teacher, Parameter? lastLayerWeight = null,
        nn.Module<Tensor, Tensor>? discriminator = null, IDistance? distance = null)
        => new(student, target, teacher, _options, distance, lastLayerWeight, discriminator);

    /// <summary>A trainer for any objective with the configured options and a logger.</summary>
    /// <param name="student">G_θ.</param>
    /// <param name="target">G_θ⁻.</param>
    /// <param name="evalEma">The evaluation EMA.</param>
    /// <param name="loss">The objective over <paramref name="student"/> and <paramref name="target"/>.</param>
    public CtmTrainer Create(ITrainableModel student, ITrainableModel target, ITrainableModel evalEma, ICtmLoss loss)
        => new(student, target, evalEma, loss, _options, _loggers.CreateLogger<CtmTrainer>());
}
