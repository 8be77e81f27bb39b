using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace Ctm.Core.Tests;

/// <summary>
/// Every C# snippet in README.md, PACKAGE.md and docs/*.md, compiled as written against the package's assemblies
/// (Ctm.Core, TorchSharp, Microsoft.Extensions.*, the BCL; not the samples or the tests), and run unless it is marked.
/// </summary>
/// <remarks>
/// Markers, an HTML comment on the line before the fence: <c>&lt;!-- snippet: compile-only --&gt;</c> (it needs files
/// the test does not have, e.g. a CIFAR-10 checkpoint) and <c>&lt;!-- snippet: continues --&gt;</c> (the block continues
/// the previous one: a walkthrough in steps is one program).
/// </remarks>
[Collection("Torch")]
public sealed class DocSnippetTests
{
    private readonly ITestOutputHelper _out;
    public DocSnippetTests(ITestOutputHelper output) => _out = output;

    public sealed record Snippet(string File, int Line, string Code, bool Run)
    {
        public override string ToString() => $"{File}:{Line}";
    }

    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Ctm.sln"))) return d.FullName;
        throw new InvalidOperationException("Ctm.sln not found above " + AppContext.BaseDirectory);
    }

    public static IEnumerable<object[]> Snippets()
    {
        string root = RepoRoot();
        var files = new[] { "README.md", "PACKAGE.md" }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md")
            .Select(f => Path.GetRelativePath(root, f)).OrderBy(f => f, StringComparer.Ordinal));
        foreach (var file in files)
            foreach (var s in Extract(file, File.ReadAllLines(Path.Combine(root, file))))
                yield return new object[] { s };
    }

    internal static List<Snippet> Extract(string file, string[] lines)
    {
        var result = new List<Snippet>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp") continue;
            string marker = i > 0 ? lines[i - 1].Trim() : "";
            int start = i + 1, end = start;
            while (end < lines.Length && lines[end].Trim() != "```") end++;
            string code = string.Join("\n", lines[start..end]);
            bool run = marker != "<!-- snippet: compile-only -->";
            if (marker == "<!-- snippet: continues -->" && result.Count > 0)
                result[^1] = result[^1] with { Code = result[^1].Code + "\n" + code, Run = result[^1].Run && run };
            else result.Add(new Snippet(file, start, code, run));
            i = end;
        }
        return result;
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void CompilesAndRuns(Snippet snippet)
    {
        var assembly = Compile(snippet);
        if (!snippet.Run) { _out.WriteLine($"{snippet}: compiled (compile-only)"); return; }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var entry = assembly.EntryPoint!;
        var console = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try { entry.Invoke(null, entry.GetParameters().Length == 0 ? null : new object[] { Array.Empty<string>() }); }
        catch (TargetInvocationException e) { throw new Xunit.Sdk.XunitException($"{snippet} threw {e.InnerException}"); }
        finally { Console.SetOut(console); }
        _out.WriteLine($"{snippet}: ran in {sw.Elapsed.TotalSeconds:F1} s");
        _out.WriteLine(captured.ToString());
    }

    [Fact]
    public void TheDocsHaveSnippets_AndTheMarkersWork()
    {
        Assert.True(Snippets().Count() >= 6, "expected the README, the package README and the docs to carry C# snippets");
        var parsed = Extract("x.md", new[] { "```csharp", "int a = 1;", "```", "<!-- snippet: continues -->", "```csharp", "a++;", "```",
            "<!-- snippet: compile-only -->", "```csharp", "var b = 2;", "```" });
        Assert.Equal(2, parsed.Count);
        Assert.Equal("int a = 1;\na++;", parsed[0].Code);
        Assert.False(parsed[1].Run);
        // A wrong snippet fails with the compiler's message and the file:line.
        var e = Assert.ThrowsAny<Exception>(() => Compile(new Snippet("bad.md", 3, "var x = new Ctm.Core.Sampling.GammaSampler();", true)));
        Assert.Contains("bad.md:3", e.Message);
    }

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        // The package's world: the BCL, TorchSharp, Ctm.Core and its Microsoft.Extensions dependencies; not the samples, tests or xunit.
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return tpa.Where(p =>
            {
                string n = Path.GetFileNameWithoutExtension(p);
                return !n.StartsWith("Ctm.Samples", StringComparison.Ordinal) && !n.StartsWith("Ctm.Core.Tests", StringComparison.Ordinal)
                    && !n.StartsWith("xunit", StringComparison.OrdinalIgnoreCase) && !n.StartsWith("testhost", StringComparison.OrdinalIgnoreCase)
                    && !n.StartsWith("Microsoft.TestPlatform", StringComparison.Ordinal) && !n.StartsWith("Microsoft.VisualStudio", StringComparison.Ordinal)
                    && !n.StartsWith("SkiaSharp", StringComparison.Ordinal) && !n.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal);
            })
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    });

    private static Assembly Compile(Snippet s)
    {
        var tree = CSharpSyntaxTree.ParseText(s.Code, new CSharpParseOptions(LanguageVersion.Latest), path: s.ToString());
        var compilation = CSharpCompilation.Create("Snippet_" + Guid.NewGuid().ToString("N"), new[] { tree }, References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var ms = new MemoryStream();
        var result = compilation.Emit(ms);
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
            throw new Xunit.Sdk.XunitException($"{s} does not compile:\n" + string.Join("\n", errors.Select(d => $"  {d.Location.GetLineSpan().StartLinePosition.Line + s.Line + 1}: {d.GetMessage()}")));
        return Assembly.Load(ms.ToArray());
    }
}
