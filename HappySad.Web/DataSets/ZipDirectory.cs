using System.Buffers.Binary;

namespace HappySad.Web.DataSets;

/// <summary>
/// Reads how many entries a zip claims from its End Of Central Directory record (and the ZIP64 one
/// when the count does not fit 16 bits), a few hundred bytes at the end. <c>ZipArchive</c> reads the
/// whole central directory into memory before anyone can count, so a zip claiming a million entries
/// is refused from this number first.
/// </summary>
internal static class ZipDirectory
{
    const uint EndSignature = 0x06054B50;
    const uint Zip64LocatorSignature = 0x07064B50;
    const uint Zip64EndSignature = 0x06064B50;
    const int EndLength = 22;

    /// <summary>The entry count the zip declares; <see cref="InvalidDataException"/> when it has no readable end record.</summary>
    public static long EntryCount(Stream zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        // The end record is the last 22 bytes plus a comment of at most 65,535.
        var tailLength = (int)Math.Min(zip.Length, EndLength + ushort.MaxValue);
        var tail = ReadAt(zip, zip.Length - tailLength, tailLength);
        for (var at = tail.Length - EndLength; at >= 0; at--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(at)) != EndSignature)
                continue;
            long entries = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(at + 10));
            if (entries != ushort.MaxValue)
                return entries;
            return Zip64EntryCount(zip, zip.Length - tailLength + at);
        }
        throw new InvalidDataException("no end of central directory record");
    }

    static long Zip64EntryCount(Stream zip, long endAt)
    {
        if (endAt < 20)
            throw new InvalidDataException("ZIP64 locator missing");
        var locator = ReadAt(zip, endAt - 20, 20);
        if (BinaryPrimitives.ReadUInt32LittleEndian(locator) != Zip64LocatorSignature)
            throw new InvalidDataException("ZIP64 locator missing");
        var recordAt = BinaryPrimitives.ReadInt64LittleEndian(locator.AsSpan(8));
        if (recordAt < 0 || recordAt > endAt - 56)
            throw new InvalidDataException("ZIP64 end record out of place");
        var record = ReadAt(zip, recordAt, 56);
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64EndSignature)
            throw new InvalidDataException("ZIP64 end record missing");
        var entries = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(32));
        return entries < 0 ? long.MaxValue : entries;
    }

    static byte[] ReadAt(Stream zip, long position, int length)
    {
        var bytes = new byte[length];
        zip.Position = position;
        zip.ReadExactly(bytes);
        return bytes;
    }
}
