using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace Ctm.Core.Tests.Robustness;

/// <summary>
/// Runs robustness cases in child processes of the test assembly (<see cref="ChildProcessEntry"/>): one child runs
/// the cases in order; when it dies, the case it was running is a <see cref="Outcome.Crash"/> and a new child goes on
/// with the next one. So a suite without crashes costs a single process start.
/// </summary>
internal static class ChildProcessRunner
{
    public static List<(string Id, Outcome Outcome, string Detail)> Run(IReadOnlyList<string> ids, TimeSpan timeoutPerChild)
    {
        var results = new List<(string, Outcome, string)>();
        var remaining = ids.ToList();
        var dll = typeof(ChildProcessEntry).Assembly.Location;
        while (remaining.Count > 0)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(dll);
            psi.ArgumentList.Add("robustness-child");
            foreach (var id in remaining) psi.ArgumentList.Add(id);
            psi.Environment["OMP_NUM_THREADS"] = "1";
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string? running = null;
            var done = new HashSet<string>(StringComparer.Ordinal);
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null)
            {
                var parts = line.Split('\t', 4);
                if (parts[0] == "START" && parts.Length >= 2) running = parts[1];
                else if (parts[0] == "DONE" && parts.Length == 4 && Enum.TryParse<Outcome>(parts[2], out var o))
                {
                    results.Add((parts[1], o, parts[3]));
                    done.Add(parts[1]);
                    running = null;
                }
            }
            if (!p.WaitForExit((int)timeoutPerChild.TotalMilliseconds)) p.Kill(entireProcessTree: true);
            p.WaitForExit();
            remaining.RemoveAll(done.Contains);
            if (remaining.Count == 0) break;
            // The child stopped early: the case it was in (or, if it died between cases, the next one) crashed it.
            var crashed = running ?? remaining[0];
            string err = stderr.Result;
            results.Add((crashed, Outcome.Crash, $"exit code {p.ExitCode}: {Tail(err)}"));
            remaining.Remove(crashed);
        }
        return results;
    }

    private static string Tail(string s)
    {
        s = s.Replace('\n', ' ').Trim();
        return s.Length <= 300 ? s : "…" + s[^300..];
    }
}
