using System;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Ctm.Core.Tests.Robustness;

/// <summary>
/// The robustness suite (issue 14): every case of <see cref="RobustnessCases"/> runs in a child process and must be a
/// clean error of its documented type naming the argument or the file. Targets: 0 crashes, 0 silent accepts, 0
/// exceptions of an undocumented type, 0 loads that leave their destination changed.
/// </summary>
[Collection("Torch")]
public class RobustnessSuiteTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryBadInput_IsACleanDocumentedError()
    {
        var ids = RobustnessCases.All().Select(c => c.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        var results = ChildProcessRunner.Run(ids, TimeSpan.FromMinutes(10));
        Assert.Equal(ids.OrderBy(i => i, StringComparer.Ordinal), results.Select(r => r.Id).OrderBy(i => i, StringComparer.Ordinal));

        int Count(Outcome o) => results.Count(r => r.Outcome == o);
        output.WriteLine($"robustness suite: {results.Count} cases, {Count(Outcome.CleanError)} clean errors, {Count(Outcome.Crash)} crashes, " +
            $"{Count(Outcome.SilentAccept)} silent accepts, {Count(Outcome.UndocumentedType)} undocumented exception types, " +
            $"{Count(Outcome.Unnamed)} unnamed, {Count(Outcome.PartialState)} partial loads");
        var bad = results.Where(r => r.Outcome != Outcome.CleanError).Select(r => $"{r.Outcome}: {r.Id} — {r.Detail}").ToList();
        foreach (var b in bad) output.WriteLine(b);
        Assert.True(bad.Count == 0, string.Join(Environment.NewLine, bad));
    }

    [Fact]
    public void AnAbortingCase_IsReportedAsACrash_AndTheNextCaseStillRuns()
    {
        var first = RobustnessCases.All().First().Id;
        var results = ChildProcessRunner.Run(new[] { ChildProcessEntry.SelfTestAbort, first }, TimeSpan.FromMinutes(2));
        Assert.Contains(results, r => r.Id == ChildProcessEntry.SelfTestAbort && r.Outcome == Outcome.Crash);
        Assert.Contains(results, r => r.Id == first && r.Outcome == Outcome.CleanError);
    }
}
