using System;
using System.Linq;

namespace Ctm.Core.Tests.Robustness;

/// <summary>
/// The test assembly's entry point (the test SDK's generated one is switched off): <c>dotnet Ctm.Core.Tests.dll
/// robustness-child [case ids…]</c> runs robustness cases in this process and reports each on stdout, so the parent
/// test sees a native abort as a missing result instead of dying with it. The test runner never calls this.
/// </summary>
public static class ChildProcessEntry
{
    /// <summary>A case that aborts the process, to test that the runner reports it as a crash.</summary>
    internal const string SelfTestAbort = "selftest: abort";

    /// <summary>Runs the named cases (all when none are named); one "START id" and one "DONE\tid\toutcome\tdetail" line each.</summary>
    /// <param name="args">"robustness-child" followed by case ids.</param>
    /// <returns>0, or 2 for an unknown verb.</returns>
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] != "robustness-child")
        {
            Console.Error.WriteLine("usage: Ctm.Core.Tests robustness-child [case ids…] (used by RobustnessSuiteTests)");
            return 2;
        }
        var wanted = args.Skip(1).ToHashSet(StringComparer.Ordinal);
        var cases = RobustnessCases.All();
        if (wanted.Contains(SelfTestAbort))
            cases = cases.Prepend(new RobustnessCase(SelfTestAbort, typeof(Exception), null, () => Environment.FailFast("robustness self-test: a deliberate abort")));
        foreach (var c in cases)
        {
            if (wanted.Count > 0 && !wanted.Contains(c.Id)) continue;
            Console.Out.WriteLine("START\t" + c.Id);
            Console.Out.Flush();
            var (outcome, detail) = c.Execute();
            Console.Out.WriteLine($"DONE\t{c.Id}\t{outcome}\t{detail}");
            Console.Out.Flush();
        }
        RobustnessFixtures.Cleanup();
        return 0;
    }
}
