using System.Buffers.Binary;

namespace HappySad.Training.Data;

/// <summary>
/// Walks a JPEG's markers to its first end-of-image marker. libjpeg pads missing data with grey and
/// reports success for a truncated progressive JPEG, or for a header that claims far more pixels
/// than its data codes, so those are caught here, before decoding, from the structure alone. So is a
/// progressive JPEG with more scans than <see cref="MaxScans"/>: every scan is another pass over every
/// block of the full-size image, whatever size it is decoded at, so a small file of many scans costs
/// seconds of a core (a 122 KB file of 500 scans, 8 s).
/// </summary>
internal static class JpegStructure
{
    /// <summary>
    /// The most scans a JPEG may have. Encoders write 1 to 4 (baseline) or about 6 to 20
    /// (progressive); Skia's decoder refuses from 100 on, and libjpeg-turbo's TurboJPEG only from 500,
    /// so with this limit both decoders take the same files.
    /// </summary>
    public const int MaxScans = 99;

    /// <summary>Why the JPEG is refused (truncated, or too many scans), or null when its structure is sound.</summary>
    public static (RejectionKind Kind, string Reason)? Refusal(ReadOnlySpan<byte> jpeg)
    {
        long entropyBytes = 0;
        long lumaBlocks = 0;
        var scans = 0;
        var at = 2;
        while (at + 1 < jpeg.Length)
        {
            if (jpeg[at] != 0xFF)
                return (RejectionKind.Truncated, "JPEG data is corrupt (a marker was expected)");
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
                    ? (RejectionKind.Truncated, $"JPEG data is truncated: {ImageDecoder.FormatBytes(entropyBytes)} of image data cannot cover the frame its header claims")
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
                if (++scans > MaxScans)
                    return (RejectionKind.Unsupported, $"JPEG has more than {MaxScans} scans (encoders write under 20; each scan costs a pass over the whole image): save it again as an ordinary JPEG");
                // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
                var start = at;
                while (at + 1 < jpeg.Length && !(jpeg[at] == 0xFF && jpeg[at + 1] != 0x00 && jpeg[at + 1] is not (>= 0xD0 and <= 0xD7)))
                    at++;
                entropyBytes += at - start;
            }
        }
        return (RejectionKind.Truncated, "JPEG data is truncated (it ends before its end-of-image marker)");
    }

    static bool IsStartOfFrame(byte marker) => marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC);
}
