using SkiaSharp;

namespace HappySad.Tests.Support;

/// <summary>Images made in the test, so each test shows exactly what it feeds the code.</summary>
internal static class TestImages
{
    public static byte[] Solid(int width, int height, SKColor color, SKEncodedImageFormat format = SKEncodedImageFormat.Png) =>
        Draw(width, height, canvas => canvas.Clear(color), format);

    /// <summary>Four quadrants: red top-left, green top-right, blue bottom-left, white bottom-right.</summary>
    public static byte[] Quadrants(int size, SKEncodedImageFormat format = SKEncodedImageFormat.Png) =>
        Draw(size, size, canvas =>
        {
            var half = size / 2;
            using var paint = new SKPaint();
            foreach (var (x, y, color) in new[] { (0, 0, SKColors.Red), (half, 0, SKColors.Lime), (0, half, SKColors.Blue), (half, half, SKColors.White) })
            {
                paint.Color = color;
                canvas.DrawRect(x, y, half, half, paint);
            }
        }, format);

    /// <summary>
    /// A distinct picture per seed: coloured blocks in a random layout, so perceptual hashes differ
    /// between seeds while re-encodings of one seed stay close.
    /// </summary>
    public static byte[] Blocks(int seed, int width = 96, int height = 96, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int quality = 95) =>
        Draw(width, height, canvas =>
        {
            var random = new Random(seed);
            using var paint = new SKPaint();
            var cell = width / 6f;
            for (var y = 0; y < 6; y++)
            {
                for (var x = 0; x < 6; x++)
                {
                    paint.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                    canvas.DrawRect(x * cell, y * height / 6f, cell + 1, (height / 6f) + 1, paint);
                }
            }
        }, format, quality: quality);

    public static byte[] Draw(int width, int height, Action<SKCanvas> draw, SKEncodedImageFormat format = SKEncodedImageFormat.Png, SKColorType colorType = SKColorType.Rgba8888, int quality = 95)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, colorType, colorType == SKColorType.Gray8 ? SKAlphaType.Opaque : SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
            draw(canvas);
        return Encode(bitmap, format, quality);
    }

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality = 95)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality) ?? throw new InvalidOperationException($"cannot encode {format}");
        return data.ToArray();
    }

    /// <summary>A 24-bit BMP written by hand: Skia cannot encode BMP.</summary>
    public static byte[] Bmp(int width, int height, SKColor color)
    {
        var rowBytes = ((width * 3) + 3) & ~3;
        var pixels = rowBytes * height;
        var bytes = new byte[54 + pixels];
        "BM"u8.CopyTo(bytes);
        BitConverter.GetBytes(bytes.Length).CopyTo(bytes, 2);
        BitConverter.GetBytes(54).CopyTo(bytes, 10);
        BitConverter.GetBytes(40).CopyTo(bytes, 14);
        BitConverter.GetBytes(width).CopyTo(bytes, 18);
        BitConverter.GetBytes(height).CopyTo(bytes, 22);
        BitConverter.GetBytes((short)1).CopyTo(bytes, 26);
        BitConverter.GetBytes((short)24).CopyTo(bytes, 28);
        BitConverter.GetBytes(pixels).CopyTo(bytes, 34);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var at = 54 + (y * rowBytes) + (x * 3);
                (bytes[at], bytes[at + 1], bytes[at + 2]) = (color.Blue, color.Green, color.Red);
            }
        }
        return bytes;
    }

    /// <summary>
    /// A single-frame GIF in one colour, written by hand (Skia cannot encode GIF). The LZW stream
    /// sends a clear code before every two pixels, so every code stays 3 bits wide.
    /// </summary>
    public static byte[] Gif(int width, int height, SKColor color)
    {
        using var stream = new MemoryStream();
        stream.Write("GIF89a"u8);
        stream.Write(BitConverter.GetBytes((ushort)width));
        stream.Write(BitConverter.GetBytes((ushort)height));
        stream.Write([0x81, 0, 0]); // global palette of 4 colours, 2 bits
        stream.Write([color.Red, color.Green, color.Blue, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        stream.Write([0x2C, 0, 0, 0, 0]);
        stream.Write(BitConverter.GetBytes((ushort)width));
        stream.Write(BitConverter.GetBytes((ushort)height));
        stream.Write([0, 2]); // no local palette; LZW minimum code size 2

        var codes = new List<int>();
        for (var pixel = 0; pixel < width * height; pixel += 2)
        {
            codes.Add(4); // clear
            codes.Add(0);
            if (pixel + 1 < width * height)
                codes.Add(0);
        }
        codes.Add(5); // end of information
        var packed = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var code in codes)
        {
            buffer |= code << bits;
            bits += 3;
            while (bits >= 8)
            {
                packed.Add((byte)buffer);
                buffer >>= 8;
                bits -= 8;
            }
        }
        if (bits > 0)
            packed.Add((byte)buffer);
        foreach (var block in packed.Chunk(255))
        {
            stream.WriteByte((byte)block.Length);
            stream.Write(block);
        }
        stream.Write([0, 0x3B]);
        return stream.ToArray();
    }

    /// <summary>
    /// A valid PNG header that claims <paramref name="width"/> x <paramref name="height"/> with almost
    /// no data: what a decompression bomb looks like before anything is decoded.
    /// </summary>
    public static byte[] PngHeaderClaiming(int width, int height)
    {
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        using var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(stream, "IHDR", ihdr);
        WriteChunk(stream, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]); // an empty zlib stream
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    static void WriteChunk(Stream stream, string type, byte[] data)
    {
        var length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var body = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(body);
        var crc = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(body));
        stream.Write(crc);
    }

    static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
