using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Ctm.Core.Tests;

/// <summary>
/// The packed package as a consumer sees it: its contents (README for consumers, icon, symbols, per-framework
/// dependencies, no build paths), then fresh net10.0 and net8.0 console apps that restore Ctm.Core from a local folder
/// feed with an isolated NuGet cache and run PACKAGE.md's quick start.
/// </summary>
/// <remarks>
/// <c>./build.sh test</c> packs first (<c>./build.sh pack</c>) and passes the folder in CTM_PACKAGE_DIR; without it the
/// test packs the library itself into a temporary folder. The isolated cache (NUGET_PACKAGES) guarantees a stale
/// Ctm.Core from an earlier restore is never reused; every other package (TorchSharp, libtorch, reference packs) comes
/// from the machine's global packages folder as a read-only fallback folder, so nothing large is extracted twice.
/// </remarks>
[Collection("Torch")]
[Trait("Category", "Consumer")]
public sealed class PackageConsumerTests : IDisposable
{
    private readonly ITestOutputHelper _out;
    private readonly string _work = Path.Combine(Path.GetTempPath(), "ctm-consumer-" + Guid.NewGuid().ToString("N"));

    public PackageConsumerTests(ITestOutputHelper output) => _out = output;

    public void Dispose()
    {
        try { if (Directory.Exists(_work)) Directory.Delete(_work, true); } catch (IOException) { }
    }

    [Fact]
    public void PackedPackage_RestoresAndRunsTheQuickStart_OnNet10AndNet8()
    {
        string root = DocSnippetTests.RepoRoot();
        string packages = PackageDir(root);
        var nupkg = Directory.GetFiles(packages, "Ctm.Core.*.nupkg").Single(f => !f.EndsWith(".symbols.nupkg", StringComparison.Ordinal));
        string version = Path.GetFileNameWithoutExtension(nupkg)["Ctm.Core.".Length..];
        Assert.True(File.Exists(Path.ChangeExtension(nupkg, ".snupkg")), "no .snupkg symbols package next to " + nupkg);
        CheckContents(root, nupkg);

        // An isolated cache, and every other package from the global folder minus any Ctm.Core in it.
        string cache = Path.Combine(_work, "nuget-cache");
        string fallback = Path.Combine(_work, "fallback");
        Directory.CreateDirectory(cache);
        Directory.CreateDirectory(fallback);
        foreach (var dir in Directory.GetDirectories(GlobalPackagesFolder()))
            if (!Path.GetFileName(dir).Equals("ctm.core", StringComparison.OrdinalIgnoreCase))
                Directory.CreateSymbolicLink(Path.Combine(fallback, Path.GetFileName(dir)), dir);
        File.WriteAllText(Path.Combine(_work, "nuget.config"), NugetConfig(root, packages, fallback));

        string quickStart = DocSnippetTests.Extract("PACKAGE.md", File.ReadAllLines(Path.Combine(root, "PACKAGE.md")))
            .First(s => s.Code.Contains("GammaSampler")).Code;
        foreach (var (tfm, extra) in new[]
        {
            ("net10.0", ""),
            // .NET 8 app on the .NET 10 runtime (roll forward), pinning an 8.0.x Microsoft.Extensions package: the
            // package's net8.0 dependencies must allow it (this was NU1605 when they demanded 10.0.x).
            ("net8.0", "<RollForward>Major</RollForward>"),
        })
        {
            string app = Path.Combine(_work, "app-" + tfm.Replace(".", ""));
            Directory.CreateDirectory(app);
            string pin = tfm == "net8.0" ? "<PackageReference Include=\"Microsoft.Extensions.Logging.Abstractions\" Version=\"8.0.2\" />" : "";
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>{tfm}</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>disable</ImplicitUsings>
                    <RuntimeIdentifier>{RuntimeInformation.RuntimeIdentifier}</RuntimeIdentifier>
                    <SelfContained>false</SelfContained>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <UseAppHost>false</UseAppHost>
                    {extra}
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Ctm.Core" Version="{version}" />
                    <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
                    {pin}
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), quickStart);
            Run(app, cache, "dotnet", "restore");
            Run(app, cache, "dotnet", "build -c Release --no-restore -nologo");
            string dll = Directory.GetFiles(Path.Combine(app, "bin", "Release", tfm), "app.dll", SearchOption.AllDirectories).Single();
            string output = Run(app, cache, "dotnet", $"\"{dll}\"");

            // The quick start ran: sample shapes, and two jumps of the exact ring model land on its modes.
            var m = Regex.Match(output, @"samples 1000x2, mean log p on the ring (-?[0-9.]+)");
            Assert.True(m.Success, $"{tfm}: unexpected output:\n{output}");
            double logp = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(logp > 0.5, $"{tfm}: mean log p {logp} is not that of samples on the ring's modes");
            _out.WriteLine($"{tfm}: {output.Trim()}");
        }

        // The Ctm.Core the apps ran is the one just packed, restored into the isolated cache.
        string sha = File.ReadAllText(Path.Combine(cache, "ctm.core", version.ToLowerInvariant(), $"ctm.core.{version.ToLowerInvariant()}.nupkg.sha512"));
        Assert.Equal(Convert.ToBase64String(SHA512.HashData(File.ReadAllBytes(nupkg))), sha.Trim());
    }

    private void CheckContents(string root, string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet();
        foreach (var f in new[] { "README.md", "icon.png", "LICENSE", "lib/net8.0/Ctm.Core.dll", "lib/net10.0/Ctm.Core.dll", "lib/net8.0/Ctm.Core.xml", "lib/net10.0/Ctm.Core.xml" })
            Assert.Contains(f, names);
        string Read(string name) { using var r = new StreamReader(zip.GetEntry(name)!.Open()); return r.ReadToEnd(); }

        // The consumer README: PACKAGE.md, with no build script and no relative links.
        string readme = Read("README.md");
        Assert.Equal(File.ReadAllText(Path.Combine(root, "PACKAGE.md")), readme);
        Assert.DoesNotContain("build.sh", readme);
        Assert.Empty(Regex.Matches(readme, @"\]\((?!https?://)[^)]*\)").Select(x => x.Value));

        // Per-framework dependency floors.
        var nuspec = XDocument.Parse(Read(names.Single(n => n.EndsWith(".nuspec", StringComparison.Ordinal))));
        XNamespace ns = nuspec.Root!.Name.Namespace;
        string Dep(string tfm, string id) => nuspec.Descendants(ns + "group").Single(g => ((string)g.Attribute("targetFramework")!).Contains(tfm.Replace("net", "")))
            .Elements(ns + "dependency").Single(d => (string)d.Attribute("id")! == id).Attribute("version")!.Value;
        foreach (var id in new[] { "Microsoft.Extensions.Options", "Microsoft.Extensions.Logging.Abstractions", "Microsoft.Extensions.DependencyInjection.Abstractions", "Microsoft.Extensions.Options.ConfigurationExtensions" })
        {
            Assert.Equal("8.0.0", Dep("net8.0", id));
            Assert.Equal("10.0.0", Dep("net10.0", id));
        }
        Assert.Equal("icon.png", nuspec.Descendants(ns + "icon").Single().Value);

        // Deterministic paths: the library does not embed this machine's checkout path (PathMap).
        using var ms = new MemoryStream();
        using (var s = zip.GetEntry("lib/net10.0/Ctm.Core.dll")!.Open()) s.CopyTo(ms);
        string text = Encoding.UTF8.GetString(ms.ToArray());
        Assert.DoesNotContain(root, text);
        Assert.Contains("/_/", text);
    }

    private string PackageDir(string root)
    {
        var given = Environment.GetEnvironmentVariable("CTM_PACKAGE_DIR");
        if (!string.IsNullOrEmpty(given))
        {
            _out.WriteLine($"package folder from CTM_PACKAGE_DIR: {given}");
            return Path.GetFullPath(given);
        }
        string dir = Path.Combine(_work, "packages");
        Run(root, null, "dotnet", $"pack \"{Path.Combine(root, "Ctm.Core.csproj")}\" -c Release -o \"{dir}\" -nologo");
        return dir;
    }

    private static string GlobalPackagesFolder()
    {
        var env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        return !string.IsNullOrEmpty(env) ? env : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    private static string NugetConfig(string root, string localFeed, string fallback)
    {
        // The repository's upstream sources, plus the local feed; Ctm.Core may only come from the local feed.
        var repo = XDocument.Load(Path.Combine(root, "nuget.config"));
        var sources = repo.Descendants("packageSources").Elements("add").Select(e => ((string)e.Attribute("key")!, (string)e.Attribute("value")!)).ToList();
        var adds = string.Join("\n", sources.Select(s => $"    <add key=\"{s.Item1}\" value=\"{s.Item2}\" />"));
        var maps = string.Join("\n", sources.Select(s => $"    <packageSource key=\"{s.Item1}\"><package pattern=\"*\" /></packageSource>"));
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{localFeed}" />
            {adds}
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="Ctm.Core" /></packageSource>
            {maps}
              </packageSourceMapping>
              <fallbackPackageFolders>
                <clear />
                <add key="machine" value="{fallback}" />
              </fallbackPackageFolders>
            </configuration>
            """;
    }

    private string Run(string dir, string? cache, string file, string args)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        if (cache is not null) psi.Environment["NUGET_PACKAGES"] = cache;
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment.Remove("MSBuildSDKsPath");          // the test host's MSBuild settings must not leak into the child builds
        psi.Environment.Remove("MSBUILD_EXE_PATH");
        psi.Environment.Remove("MSBuildExtensionsPath");
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8))) { p.Kill(true); throw new TimeoutException($"{file} {args} in {dir} took over 8 minutes"); }
        string output = stdout.Result + stderr.Result;
        _out.WriteLine($"$ {file} {args}   ({sw.Elapsed.TotalSeconds:F0} s, exit {p.ExitCode})");
        Assert.True(p.ExitCode == 0, $"{file} {args} in {dir} failed with exit code {p.ExitCode}:\n{output}");
        return output;
    }
}
