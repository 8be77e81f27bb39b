using System;
using System.IO;

namespace Ctm.Core.Tests.Robustness;

/// <summary>How one bad input fared.</summary>
internal enum Outcome
{
    /// <summary>The documented exception type, naming the argument (or the file).</summary>
    CleanError,
    /// <summary>No exception: the bad input was accepted.</summary>
    SilentAccept,
    /// <summary>An exception of a type the entry point does not document.</summary>
    UndocumentedType,
    /// <summary>The documented type, but it names no argument / file, or the wrong one.</summary>
    Unnamed,
    /// <summary>A load failed but changed the destination (not all-or-nothing).</summary>
    PartialState,
    /// <summary>The child process died (native abort, stack overflow, out of memory) during the case.</summary>
    Crash,
}

/// <summary>
/// One bad input to one public entry point: <see cref="Run"/> must throw <see cref="Expected"/> (or a subclass) whose
/// ParamName is <see cref="Name"/> (argument exceptions) or whose message contains <see cref="Name"/> (file errors).
/// </summary>
/// <param name="Id">Unique, stable case name: "Area.Entry: what".</param>
/// <param name="Expected">The documented exception type.</param>
/// <param name="Name">The argument name, or a fragment of the file name the message must contain; null = not checked.</param>
/// <param name="Run">The call (builds its own fixtures; disposes what it creates).</param>
internal sealed record RobustnessCase(string Id, Type Expected, string? Name, Action Run)
{
    /// <summary>Runs the case in this process and classifies the result (a crash cannot be seen from inside).</summary>
    public (Outcome Outcome, string Detail) Execute()
    {
        try
        {
            Run();
            return (Outcome.SilentAccept, "returned normally");
        }
        catch (PartialStateException e)
        {
            return (Outcome.PartialState, e.Message);
        }
        catch (Exception e)
        {
            string what = $"{e.GetType().Name}: {OneLine(e.Message)}";
            if (!Expected.IsInstanceOfType(e)) return (Outcome.UndocumentedType, what);
            if (Name is null) return (Outcome.CleanError, what);
            bool named = e is ArgumentException a ? a.ParamName == Name : e.Message.Contains(Name, StringComparison.Ordinal);
            return named ? (Outcome.CleanError, what) : (Outcome.Unnamed, what + (e is ArgumentException ae ? $" [ParamName {ae.ParamName ?? "null"}]" : ""));
        }
    }

    private static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ');

    public static RobustnessCase Arg<T>(string id, string param, Action run) where T : ArgumentException => new(id, typeof(T), param, run);

    public static RobustnessCase FileCase<T>(string id, string file, Action run) where T : Exception => new(id, typeof(T), file, run);

    public static RobustnessCase Op(string id, Action run) => new(id, typeof(InvalidOperationException), null, run);
}

/// <summary>Thrown by a case when a failed load left its destination changed.</summary>
internal sealed class PartialStateException(string message) : Exception(message);
