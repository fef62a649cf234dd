using System.Buffers.Binary;

namespace HappySad.Training.Data;

/// <summary>
/// Walks a JPEG's markers to its first end-of-image marker. libjpeg pads missing data with grey and
/// reports success for a truncated progressive JPEG, or for a header that claims far more pixels
/// than its data codes, so those are caught here, before decoding, from the structure alone.
/// </summary>
internal static class JpegStructure
{
    /// <summary>Why the JPEG is truncated, or null when its structure is whole.</summary>
    public static string? TruncationReason(ReadOnlySpan<byte> jpeg)
    {
        long entropyBytes = 0;
        long lumaBlocks = 0;
        var at = 2;
        while (at + 1 < jpeg.Length)
        {
            if (jpeg[at] != 0xFF)
                return "JPEG data is corrupt (a marker was expected)";
            var marker = jpeg[at + 1];
            if (marker == 0xFF)
            {
                at++;
                continue;
            }
            if (marker == 0xD9)
            {
                // Every block codes at least one bit (its DC value) in any baseline or progressive JPEG.
                return entropyBytes * 8 < lumaBlocks
                    ? $"JPEG data is truncated: {ImageDecoder.FormatBytes(entropyBytes)} of image data cannot cover the frame its header claims"
                    : null;
            }
            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
            {
                at += 2;
                continue;
            }
            if (at + 4 > jpeg.Length)
                break;
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 2)..]);
            var end = at + 2 + length;
            if (length < 2 || end > jpeg.Length)
                break;
            if (IsStartOfFrame(marker) && length >= 8)
            {
                var height = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 5)..]);
                var width = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 7)..]);
                lumaBlocks = ((width + 7L) / 8) * ((height + 7L) / 8);
            }
            at = end;
            if (marker == 0xDA)
            {
                // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
                var start = at;
                while (at + 1 < jpeg.Length && !(jpeg[at] == 0xFF && jpeg[at + 1] != 0x00 && jpeg[at + 1] is not (>= 0xD0 and <= 0xD7)))
                    at++;
                entropyBytes += at - start;
            }
        }
        return "JPEG data is truncated (it ends before its end-of-image marker)";
    }

    static bool IsStartOfFrame(byte marker) => marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC);
}
