using System;
using System.CommandLine;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Ctm.Samples;

/// <summary>
/// The samples' console conventions: options through System.CommandLine (<c>--help</c> everywhere, unknown flags are
/// errors), logs through Microsoft.Extensions.Logging.Console, live progress bars through Spectre.Console.
/// </summary>
public static class SampleConsole
{
    /// <summary>A console logger factory: one line per message with a timestamp.</summary>
    public static ILoggerFactory Logging(LogLevel minimum = LogLevel.Information) => LoggerFactory.Create(b => b
        .SetMinimumLevel(minimum)
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));

    /// <summary>An option with a description and a default shown by <c>--help</c>.</summary>
    public static Option<T> Option<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>An option without a default (null when absent), e.g. a default that depends on <c>--quick</c>.</summary>
    public static Option<T?> Optional<T>(string name, string description) where T : struct => new(name) { Description = description };

    /// <summary>A switch (<c>--quick</c>).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>Parses <paramref name="args"/> and runs the command; parse errors print the error and the help, exit code 1.</summary>
    public static int Run(RootCommand command, string[] args) => command.Parse(args).Invoke();

    /// <summary>
    /// Runs <paramref name="work"/> with progress tasks: Spectre.Console bars on an interactive terminal, a log line per
    /// 10 % otherwise (CI, redirected output).
    /// </summary>
    public static void WithProgress(ILogger logger, Action<ProgressTasks> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx => work(new ProgressTasks(ctx, logger)));
        else work(new ProgressTasks(null, logger));
    }
}

/// <summary>Progress tasks of one <see cref="SampleConsole.WithProgress"/> block.</summary>
public sealed class ProgressTasks
{
    private readonly ProgressContext? _ctx;
    private readonly ILogger _logger;

    internal ProgressTasks(ProgressContext? ctx, ILogger logger) { _ctx = ctx; _logger = logger; }

    /// <summary>A task of <paramref name="total"/> steps; report (step, short status) after each step.</summary>
    public IProgress<(long Step, string Status)> Add(string name, long total)
    {
        if (_ctx is { } ctx)
        {
            var task = ctx.AddTask(Markup.Escape(name), maxValue: Math.Max(1, total));
            return new SyncProgress<(long Step, string Status)>(p =>
            {
                task.Value = p.Step;
                task.Description = Markup.Escape($"{name}  {p.Status}");
            });
        }
        long every = Math.Max(1, total / 10);
        return new SyncProgress<(long Step, string Status)>(p =>
        {
            if (p.Step % every == 0 || p.Step == total) _logger.LogInformation("{Task} {Step}/{Total}: {Status}", name, p.Step, total, p.Status);
        });
    }
}
