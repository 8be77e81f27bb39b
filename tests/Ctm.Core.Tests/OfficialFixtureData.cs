using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>
/// What both official-code fixtures (Fixtures/official-ctm-tiny, Fixtures/official-ctm-adm-tiny) store in io.json: the
/// inputs x_t, t, s, labels, the official outputs F, g, G of the student and D of the teacher (as float32 tensors),
/// and the full key lists. Subclasses read their network's configuration from <see cref="Root"/>.
/// </summary>
internal abstract class OfficialFixtureData : IDisposable
{
    protected OfficialFixtureData(string dir)
    {
        Dir = dir;
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "io.json")))) Root = doc.RootElement.Clone();
        Shape = Root.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        X = Read("x_t", Shape);
        T = Read("t", new[] { Shape[0] });
        S = Read("s", new[] { Shape[0] });
        F = Read("student_F", Shape);
        G = Read("student_g", Shape);
        Jump = Read("student_G", Shape);
        D = Read("teacher_D", Shape);
        Labels = Root.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Array
            ? tensor(l.EnumerateArray().Select(e => e.GetInt64()).ToArray()) : null;
        StudentKeys = Strings("student_keys");
        TeacherKeys = Strings("teacher_keys");
    }

    public string Dir { get; }
    public JsonElement Root { get; }
    public long[] Shape { get; }
    public Tensor X { get; }
    public Tensor T { get; }
    public Tensor S { get; }
    public Tensor F { get; }
    public Tensor G { get; }
    public Tensor Jump { get; }
    public Tensor D { get; }
    public Tensor? Labels { get; }
    public string[] StudentKeys { get; }
    public string[] TeacherKeys { get; }

    /// <summary>An integer list of the JSON object <paramref name="parent"/>.</summary>
    protected static int[] Ints(JsonElement parent, string key) => parent.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private Tensor Read(string key, long[] shape) =>
        tensor(Root.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray()).reshape(shape).to_type(ScalarType.Float32);

    private string[] Strings(string key) => Root.GetProperty(key).EnumerateArray().Select(e => e.GetString()!).ToArray();

    public void Dispose()
    {
        foreach (var t in new[] { X, T, S, F, G, Jump, D, Labels }) t?.Dispose();
    }
}
