using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SkiaSharp;

namespace HappySad.Tests.Support;

/// <summary>
/// Files made to hurt a server: decompression bombs, lying headers, truncated data, hostile zips.
/// Each is built here byte by byte (or patched from an image Skia encoded), so a test shows exactly
/// what it throws at the code.
/// </summary>
internal static class HostileFiles
{
    /// <summary>
    /// A 64x64 progressive JPEG (ImageMagick: <c>convert -size 64x64 gradient:red-blue -strip -quality 80
    /// -interlace JPEG</c>); Skia cannot encode progressive JPEGs.
    /// </summary>
    public static byte[] ProgressiveJpeg { get; } = Convert.FromBase64String("/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wgARCABAAEADASIAAhEBAxEB/8QAFwABAQEBAAAAAAAAAAAAAAAAAAIDBv/EABcBAQEBAQAAAAAAAAAAAAAAAAAFBAb/2gAMAwEAAhADEAAAAebZMXf6shqyGrIZoWJNoFoFoGSFmTaBaBaBkhZlWgWgWgf/xAAUEAEAAAAAAAAAAAAAAAAAAABg/9oACAEBAAEFAgH/xAAVEQEBAAAAAAAAAAAAAAAAAAAAE//aAAgBAwEBPwGyyyyyyyyyyyyyyyz/xAAVEQEBAAAAAAAAAAAAAAAAAAAAE//aAAgBAgEBPwGCCCCCCCCCCCCCCCD/xAAUEAEAAAAAAAAAAAAAAAAAAABg/9oACAEBAAY/AgH/xAAVEAEBAAAAAAAAAAAAAAAAAAAAEf/aAAgBAQABPyGqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqv/aAAwDAQACAAMAAAAQMMMMzzzzzzzzwwww/8QAFBEBAAAAAAAAAAAAAAAAAAAAQP/aAAgBAwEBPxAAAAf/xAAVEQEBAAAAAAAAAAAAAAAAAAAAcf/aAAgBAgEBPxCEIQhCEIQhCEIQ/8QAFBABAAAAAAAAAAAAAAAAAAAAYP/aAAgBAQABPxAB/wD+Af8A/wD/AP8A/wD/2Q==");

    /// <summary>
    /// A 1-bit black PNG of <paramref name="width"/> x <paramref name="height"/>: a few KB on disk, 4 bytes
    /// a pixel once decoded (6300x6300 is 40 MP, 160 MB). <paramref name="seed"/> varies one byte so
    /// bombs differ by content.
    /// </summary>
    public static byte[] PngBomb(int width, int height, int seed = 0)
    {
        using var idat = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[1 + ((width + 7) / 8)];
            for (var y = 0; y < height; y++)
            {
                row[1] = y == 0 ? (byte)seed : (byte)0;
                zlib.Write(row);
            }
        }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 1; // bit depth
        header[9] = 0; // grayscale
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", idat.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// A GIF whose logical screen and first frame are sized independently; the frame holds a few real
    /// LZW-coded pixels and claims the rest.
    /// </summary>
    public static byte[] Gif(int screenWidth, int screenHeight, int frameWidth, int frameHeight)
    {
        using var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        WriteUInt16(gif, screenWidth);
        WriteUInt16(gif, screenHeight);
        gif.Write([0x80, 0, 0]); // global colour table of 2 entries
        gif.Write([0, 0, 0, 255, 255, 255]);
        gif.WriteByte(0x2C);
        WriteUInt16(gif, 0);
        WriteUInt16(gif, 0);
        WriteUInt16(gif, frameWidth);
        WriteUInt16(gif, frameHeight);
        gif.WriteByte(0);
        // LZW with a minimum code size of 2: clear (4) before every two pixels keeps codes 3 bits wide.
        gif.WriteByte(2);
        var codes = new List<int>();
        for (var i = 0; i < Math.Min(frameWidth * frameHeight, 4096); i += 2)
            codes.AddRange([4, 1, 0]);
        codes.Add(5);
        var bits = new List<byte>();
        int accumulator = 0, count = 0;
        foreach (var code in codes)
        {
            accumulator |= code << count;
            count += 3;
            while (count >= 8)
            {
                bits.Add((byte)accumulator);
                accumulator >>= 8;
                count -= 8;
            }
        }
        if (count > 0)
            bits.Add((byte)accumulator);
        foreach (var block in bits.Chunk(255))
        {
            gif.WriteByte((byte)block.Length);
            gif.Write(block);
        }
        gif.WriteByte(0);
        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    /// <summary>A small lossless WebP whose VP8L header is rewritten to claim <paramref name="width"/> x <paramref name="height"/> (at most 16384).</summary>
    public static byte[] WebPClaiming(int width, int height)
    {
        var webp = TestImages.Draw(64, 64, c => c.Clear(SKColors.Orange), SKEncodedImageFormat.Webp, quality: 100);
        var at = IndexOf(webp, "VP8L"u8) + 8;
        if (webp[at] != 0x2F)
            throw new InvalidOperationException("expected a lossless (VP8L) WebP");
        var packed = BinaryPrimitives.ReadUInt32LittleEndian(webp.AsSpan(at + 1));
        packed = (packed & 0xF000_0000) | (uint)(width - 1) | ((uint)(height - 1) << 14);
        BinaryPrimitives.WriteUInt32LittleEndian(webp.AsSpan(at + 1), packed);
        return webp;
    }

    /// <summary>
    /// <see cref="ProgressiveJpeg"/> with its last scan repeated until it has <paramref name="scans"/>:
    /// the shape of a small file that makes a decoder pass over the whole image hundreds of times.
    /// </summary>
    public static byte[] ProgressiveJpegOfScans(int scans)
    {
        var jpeg = ProgressiveJpeg;
        var starts = Enumerable.Range(0, jpeg.Length - 1).Where(i => jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA).ToList();
        var end = jpeg.Length - 2; // the end-of-image marker
        var last = jpeg[starts[^1]..end];
        return [.. jpeg[..end], .. Enumerable.Repeat(last, scans - starts.Count).SelectMany(s => s), .. jpeg[end..]];
    }

    /// <summary>A baseline JPEG of 100x100 real pixels whose frame header claims <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static byte[] JpegClaiming(int width, int height)
    {
        var jpeg = TestImages.Blocks(7, 100, 100, SKEncodedImageFormat.Jpeg);
        var sof = IndexOf(jpeg, [0xFF, 0xC0]);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), (ushort)width);
        return jpeg;
    }

    /// <summary>
    /// A zip whose End Of Central Directory record claims <paramref name="claimedEntries"/> entries
    /// (ZIP64 records when that does not fit 16 bits) over an empty central directory: what a
    /// million-entry zip looks like to a reader that trusts the count, in a few hundred bytes.
    /// </summary>
    public static byte[] ZipClaimingEntries(long claimedEntries)
    {
        using var zip = new MemoryStream();
        if (claimedEntries < 0xFFFF)
        {
            WriteEndOfCentralDirectory(zip, (ushort)claimedEntries, 0, 0);
            return zip.ToArray();
        }
        // ZIP64 end of central directory record, its locator, then the classic record pointing at them.
        var zip64At = zip.Position;
        zip.Write([0x50, 0x4B, 0x06, 0x06]);
        WriteUInt64(zip, 44);
        WriteUInt16(zip, 45);
        WriteUInt16(zip, 45);
        WriteUInt32(zip, 0);
        WriteUInt32(zip, 0);
        WriteUInt64(zip, (ulong)claimedEntries);
        WriteUInt64(zip, (ulong)claimedEntries);
        WriteUInt64(zip, 0);
        WriteUInt64(zip, 0);
        zip.Write([0x50, 0x4B, 0x06, 0x07]);
        WriteUInt32(zip, 0);
        WriteUInt64(zip, (ulong)zip64At);
        WriteUInt32(zip, 1);
        WriteEndOfCentralDirectory(zip, 0xFFFF, 0xFFFF_FFFF, 0xFFFF_FFFF);
        return zip.ToArray();
    }

    /// <summary>A zip with one entry per item; <c>UnixMode</c>, when set, goes in the entry's external attributes (a symlink is <c>0xA1FF</c>).</summary>
    public static byte[] Zip(params (string Name, byte[] Bytes, int? UnixMode)[] entries)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes, unixMode) in entries)
            {
                var entry = zip.CreateEntry(name, CompressionLevel.Fastest);
                if (unixMode is { } mode)
                    entry.ExternalAttributes = mode << 16;
                using var body = entry.Open();
                body.Write(bytes);
            }
        }
        return stream.ToArray();
    }

    static void WriteEndOfCentralDirectory(Stream zip, ushort entries, uint size, uint offset)
    {
        zip.Write([0x50, 0x4B, 0x05, 0x06]);
        WriteUInt16(zip, 0);
        WriteUInt16(zip, 0);
        WriteUInt16(zip, entries);
        WriteUInt16(zip, entries);
        WriteUInt32(zip, size);
        WriteUInt32(zip, offset);
        WriteUInt16(zip, 0);
    }

    static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(length, Crc32(typed));
        png.Write(length);
    }

    static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFF_FFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB8_8320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle)
    {
        var at = haystack.AsSpan().IndexOf(needle);
        return at >= 0 ? at : throw new InvalidOperationException("marker not found");
    }

    static void WriteUInt16(Stream s, int value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        s.Write(b);
    }

    static void WriteUInt32(Stream s, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        s.Write(b);
    }

    static void WriteUInt64(Stream s, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        s.Write(b);
    }
}
