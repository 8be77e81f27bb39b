using System;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ctm.Core.Training;

/// <summary>
/// Builds EDM teacher trainers with the configured <see cref="EdmTrainingOptions"/> and logging, for hosts that use
/// dependency injection (registered by <c>AddCtm</c>).
/// </summary>
public sealed class EdmTeacherTrainerFactory
{
    private readonly EdmTrainingOptions _options;
    private readonly ILoggerFactory _loggers;

    /// <summary>Creates the factory.</summary>
    /// <param name="options">Teacher training options (validated here).</param>
    /// <param name="loggerFactory">Logger factory; none = no logging.</param>
    public EdmTeacherTrainerFactory(IOptions<EdmTrainingOptions> options, ILoggerFactory? loggerFactory = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Value.Clone();
        _options.Validate();
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <summary>A copy of the options the factory applies.</summary>
    public EdmTrainingOptions Options => _options.Clone();

    /// <summary>A trainer for <paramref name="model"/> with its EMA <paramref name="ema"/>.</summary>
    /// <param name="model">The denoiser being trained.</param>
    /// <param name="ema">The EMA denoiser (a second instance of the same network).</param>
    public EdmTeacherTrainer Create(ITrainableModel model, ITrainableModel ema)
        => new(model, ema, _options, _loggers.CreateLogger<EdmTeacherTrainer>());
}
