using System;
using Ctm.Core.Models;
using Ctm.Core.Sampling;
using Ctm.Core.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.DependencyInjection;

/// <summary>
/// Registers Ctm.Core with a <see cref="IServiceCollection"/>: options bound from configuration and validated at start,
/// a trajectory model around a network you provide, the samplers, and trainer factories.
/// </summary>
/// <remarks>
/// <para>Configuration layout (section names relative to the section you pass, e.g. <c>"Ctm"</c>):</para>
/// <code>
/// "Ctm": {
///   "SigmaMin": 0.002, "SigmaMax": 80, "SigmaData": 0.5, "Rho": 7,   // CtmOptions: the model's schedule
///   "Sampling": { "SampleShape": [ 2 ] },                             // SamplerOptions (required)
///   "Training": { "LearningRate": 4e-4, ... },                        // CtmTrainingOptions
///   "Teacher":  { "LearningRate": 1e-3, ... }                         // EdmTrainingOptions
/// }
/// </code>
/// <para>Every options type is validated at start (<c>ValidateOnStart</c>): a generic host does it when it starts;
/// without a host call <c>provider.GetRequiredService&lt;IStartupValidator&gt;().Validate()</c> once after building the
/// provider. The container owns the network created by the factory you pass to <see cref="AddCtmModel"/> and
/// disposes it with the provider.</para>
/// </remarks>
public static class CtmServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="CtmOptions"/>, <see cref="SamplerOptions"/>, <see cref="CtmTrainingOptions"/> and
    /// <see cref="EdmTrainingOptions"/> from <paramref name="configuration"/> (see the remarks for the layout), validates
    /// them at start, and registers <see cref="IGammaSampler"/>/<see cref="GammaSampler"/>, <see cref="DiffusionSampler"/>,
    /// <see cref="JumpScheduleSampler"/>, <see cref="AncestralEulerSampler"/>, <see cref="CtmTrainerFactory"/> and
    /// <see cref="EdmTeacherTrainerFactory"/>. The samplers need a model: register one with <see cref="AddCtmModel"/> or
    /// as <see cref="ITrajectoryModel"/> yourself.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The Ctm section, e.g. <c>configuration.GetSection("Ctm")</c>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddCtm(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration is null) throw new ArgumentNullException(nameof(configuration));
        return services.AddCtmCore(
            o => o.Bind(configuration), s => s.Bind(configuration.GetSection("Sampling")),
            t => t.Bind(configuration.GetSection("Training")), e => e.Bind(configuration.GetSection("Teacher")));
    }

    /// <summary>
    /// Like <see cref="AddCtm(IServiceCollection, IConfiguration)"/> with options set in code instead of bound from
    /// configuration.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configureSampler">Sets the sample shape (required) and clamp.</param>
    /// <param name="configureSchedule">Sets the schedule; the paper's when null.</param>
    /// <param name="configureTraining">Sets the CTM training options; the official ones when null.</param>
    /// <param name="configureTeacher">Sets the teacher training options; EDM's when null.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddCtm(this IServiceCollection services, Action<SamplerOptions> configureSampler,
        Action<CtmOptions>? configureSchedule = null, Action<CtmTrainingOptions>? configureTraining = null,
        Action<EdmTrainingOptions>? configureTeacher = null)
    {
        if (configureSampler is null) throw new ArgumentNullException(nameof(configureSampler));
        return services.AddCtmCore(
            o => { if (configureSchedule is not null) o.Configure(configureSchedule); }, s => s.Configure(configureSampler),
            t => { if (configureTraining is not null) t.Configure(configureTraining); }, e => { if (configureTeacher is not null) e.Configure(configureTeacher); });
    }

    /// <summary>
    /// Registers the network made by <paramref name="network"/> (a singleton the container owns and disposes) and a
    /// <see cref="CtmTrajectoryModel"/> around it with the configured <see cref="CtmOptions"/>, as
    /// <see cref="ITrajectoryModel"/>, <see cref="IDenoiser"/> and <see cref="ITrainableModel"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="network">Creates the network F(x_in, c_noise(t), c_noise(s)), e.g. a <c>TrajectoryMlp</c> with loaded weights.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddCtmModel(this IServiceCollection services, Func<IServiceProvider, nn.Module<Tensor, Tensor, Tensor, Tensor>> network)
    {
        if (services is null) throw new ArgumentNullException(nameof(services));
        if (network is null) throw new ArgumentNullException(nameof(network));
        services.AddOptions<CtmOptions>();
        services.TryAddSingleton(network);
        services.TryAddSingleton<CtmTrajectoryModel>();
        services.TryAddSingleton<ITrajectoryModel>(sp => sp.GetRequiredService<CtmTrajectoryModel>());
        services.TryAddSingleton<IDenoiser>(sp => sp.GetRequiredService<ITrajectoryModel>());
        services.TryAddSingleton<ITrainableModel>(sp => sp.GetRequiredService<CtmTrajectoryModel>());
        return services;
    }

    private static IServiceCollection AddCtmCore(this IServiceCollection services,
        Action<OptionsBuilder<CtmOptions>> schedule, Action<OptionsBuilder<SamplerOptions>> sampler,
        Action<OptionsBuilder<CtmTrainingOptions>> training, Action<OptionsBuilder<EdmTrainingOptions>> teacher)
    {
        if (services is null) throw new ArgumentNullException(nameof(services));
        schedule(services.AddOptions<CtmOptions>().ValidateOnStart());
        sampler(services.AddOptions<SamplerOptions>().ValidateOnStart());
        training(services.AddOptions<CtmTrainingOptions>().ValidateOnStart());
        teacher(services.AddOptions<EdmTrainingOptions>().ValidateOnStart());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CtmOptions>, CtmOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SamplerOptions>, SamplerOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CtmTrainingOptions>, CtmTrainingOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EdmTrainingOptions>, EdmTrainingOptionsValidator>());

        services.TryAddSingleton<GammaSampler>();
        services.TryAddSingleton<IGammaSampler>(sp => sp.GetRequiredService<GammaSampler>());
        services.TryAddSingleton<DiffusionSampler>();
        services.TryAddSingleton<JumpScheduleSampler>();
        services.TryAddSingleton<AncestralEulerSampler>();
        services.TryAddSingleton<CtmTrainerFactory>();
        services.TryAddSingleton<EdmTeacherTrainerFactory>();
        return services;
    }
}
