using System;
using System.IO;
using System.IO.Compression;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Samples.Imaging;

/// <summary>
/// Writes a batch of images as one PNG grid (8-bit grey for 1 channel, RGB for 3), with no imaging dependency.
/// </summary>
public static class PngGrid
{
    /// <summary>Saves <paramref name="images"/> [N, C, H, W] (C = 1 or 3) as a grid PNG.</summary>
    /// <param name="images">Images (borrowed), any device/float dtype; values mapped from [low, high] to 0..255 and clamped.</param>
    /// <param name="path">Output .png path (folders are created).</param>
    /// <param name="columns">Images per row (rows = ⌈N / columns⌉).</param>
    /// <param name="scale">Integer up-scaling of every pixel (nearest neighbour), e.g. 2 for small digits.</param>
    /// <param name="padding">Pixels of background between images.</param>
    /// <param name="low">Value shown black (−1 for model-space data).</param>
    /// <param name="high">Value shown white.</param>
    public static void Save(Tensor images, string path, int columns = 8, int scale = 1, int padding = 2, double low = -1, double high = 1)
    {
        if (images is null) throw new ArgumentNullException(nameof(images));
        if (images.dim() != 4 || (images.shape[1] != 1 && images.shape[1] != 3))
            throw new ArgumentException($"images must be [N, C, H, W] with C = 1 or 3, got [{string.Join(", ", images.shape)}].", nameof(images));
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be ≥ 1.");
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be ≥ 1.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be ≥ 0.");
        if (!(high > low)) throw new ArgumentException("high must exceed low.", nameof(high));
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("Pass an output path.", nameof(path));

        int n = (int)images.shape[0], c = (int)images.shape[1], h = (int)images.shape[2], w = (int)images.shape[3];
        byte[] pix;
        using (var scope = NewDisposeScope())
        {
            var u8 = ((images.detach().to(CPU).to_type(ScalarType.Float32) - low) * (255.0 / (high - low))).nan_to_num(0).clamp(0, 255).round().to_type(ScalarType.Byte);
            pix = u8.contiguous().data<byte>().ToArray();
        }
        int rows = (n + columns - 1) / columns;
        int cols = Math.Min(columns, Math.Max(n, 1));
        int cellW = w * scale + padding, cellH = h * scale + padding;
        int width = cols * cellW + padding, height = rows * cellH + padding;
        var canvas = new byte[height * (width * c + 1)]; // each scanline starts with filter byte 0
        for (int i = 0; i < n; i++)
        {
            int x0 = padding + (i % columns) * cellW, y0 = padding + (i / columns) * cellH;
            for (int y = 0; y < h * scale; y++)
                for (int x = 0; x < w * scale; x++)
                    for (int ch = 0; ch < c; ch++)
                        canvas[(y0 + y) * (width * c + 1) + 1 + (x0 + x) * c + ch] = pix[((i * c + ch) * h + y / scale) * w + x / scale];
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var file = File.Create(path);
        file.Write(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        var ihdr = new byte[13];
        WriteBigEndian(ihdr, 0, (uint)width);
        WriteBigEndian(ihdr, 4, (uint)height);
        ihdr[8] = 8;                       // bit depth
        ihdr[9] = (byte)(c == 1 ? 0 : 2);  // colour type: grey or RGB
        WriteChunk(file, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(canvas);
            WriteChunk(file, "IDAT", z.ToArray());
        }
        WriteChunk(file, "IEND", Array.Empty<byte>());
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        WriteBigEndian(len, 0, (uint)data.Length);
        s.Write(len);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        uint crc = Crc32(Crc32(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        var crcBytes = new byte[4];
        WriteBigEndian(crcBytes, 0, crc);
        s.Write(crcBytes);
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    private static uint Crc32(uint crc, byte[] data)
    {
        foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static void WriteBigEndian(byte[] buffer, int offset, uint value)
    {
        buffer[offset] = (byte)(value >> 24);
        buffer[offset + 1] = (byte)(value >> 16);
        buffer[offset + 2] = (byte)(value >> 8);
        buffer[offset + 3] = (byte)value;
    }
}
