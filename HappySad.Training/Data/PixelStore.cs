using Microsoft.Win32.SafeHandles;

namespace HappySad.Training.Data;

/// <summary>Where an <see cref="ImageSet"/>'s bytes are: records of one fixed size, read by number.</summary>
internal abstract class PixelStore
{
    /// <summary>Identifies the bytes without reading them, or null when only the bytes themselves do.</summary>
    public abstract string? Key { get; }

    public abstract void Read(int record, Span<byte> destination);

    /// <summary>One record's bytes; stores that cannot lend their own memory read a copy.</summary>
    public abstract ReadOnlySpan<byte> Pixels(int record);
}

/// <summary>Decoded images held in memory, one array each.</summary>
internal sealed class MemoryPixels(byte[][] records) : PixelStore
{
    public override string? Key => null;

    public override void Read(int record, Span<byte> destination) => records[record].CopyTo(destination);

    public override ReadOnlySpan<byte> Pixels(int record) => records[record];
}

/// <summary>
/// A finished <see cref="PixelCache"/> file, open for reading: record <c>i</c> is <see cref="ImageBytes"/>
/// bytes at a fixed offset, read with positional reads (<c>pread</c>) that any number of threads may
/// issue at once. The pages come through the OS file cache, not this process's memory, so a data set
/// larger than memory trains as well as a small one. The handle stays open for the set's lifetime: a
/// cache file replaced or evicted meanwhile is still read whole (the OS keeps an open file's data).
/// </summary>
internal sealed class PixelCacheFile : PixelStore
{
    readonly SafeFileHandle _handle;
    readonly long _recordsStart;

    PixelCacheFile(SafeFileHandle handle, PixelCacheHeader header)
    {
        _handle = handle;
        _recordsStart = PixelCacheHeader.Length;
        Key = header.Key;
        Count = header.Count;
        ImageBytes = header.ImageBytes;
        Size = header.Size;
        Views = header.Views;
    }

    public override string Key { get; }
    public int Count { get; }
    public int ImageBytes { get; }
    public int Size { get; }
    public int Views { get; }

    public static PixelCacheFile Open(SafeFileHandle handle, PixelCacheHeader header) => new(handle, header);

    public override void Read(int record, Span<byte> destination)
    {
        if ((uint)record >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(record), $"record {record} of a cache of {Count}");
        var target = destination[..ImageBytes];
        var offset = _recordsStart + ((long)record * ImageBytes);
        while (target.Length > 0)
        {
            var read = RandomAccess.Read(_handle, target, offset);
            if (read == 0)
                throw new IOException($"the pixel cache ended inside record {record}");
            target = target[read..];
            offset += read;
        }
    }

    public override ReadOnlySpan<byte> Pixels(int record)
    {
        var bytes = new byte[ImageBytes];
        Read(record, bytes);
        return bytes;
    }
}
