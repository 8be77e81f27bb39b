using System;
using System.IO;
using System.Text.Json;
using Ctm.Core.Networks;

namespace Ctm.Samples.Mnist;

/// <summary>
/// A trained MNIST CTM on disk: the network's weights (TorchSharp format, <c>module.save</c>) plus its architecture as
/// JSON next to them (<c>FILE.json</c>), so a later program rebuilds the same <see cref="SongUNet"/> without guessing.
/// </summary>
public static class CtmFile
{
    public static void Save(SongUNet ctm, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        ctm.save(path + ".tmp");
        File.Move(path + ".tmp", path, overwrite: true);
        File.WriteAllText(path + ".json", JsonSerializer.Serialize(ctm.Config, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Rebuilds the network from <c>FILE.json</c> and loads <c>FILE</c>, in eval mode.</summary>
    public static SongUNet Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No trained CTM at '{path}'; create one with the MNIST sample's --save-ctm {path}.", path);
        if (!File.Exists(path + ".json"))
            throw new FileNotFoundException($"'{path}.json' (the network's architecture) is missing; it is written next to the weights by --save-ctm.", path + ".json");
        var config = JsonSerializer.Deserialize<SongUNetConfig>(File.ReadAllText(path + ".json"))
            ?? throw new InvalidDataException($"'{path}.json' does not hold a SongUNetConfig.");
        var net = new SongUNet(config);
        try
        {
            net.load(path);
            net.eval();
            return net;
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }
}
