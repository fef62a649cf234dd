namespace HappySad.Training.Data;

/// <summary>Image formats recognised by content.</summary>
public enum ImageFormat
{
    Unknown,
    Jpeg,
    Png,
    Bmp,
    Gif,
    WebP,
    Svg,
    Html,
    Text,
}

/// <summary>Tells an image's format from its first bytes, never from its file name.</summary>
public static class ImageSniffer
{
    /// <summary>How many leading bytes <see cref="Sniff"/> needs to recognise any format.</summary>
    public const int HeaderLength = 512;

    public static bool IsSupported(ImageFormat format) =>
        format is ImageFormat.Jpeg or ImageFormat.Png or ImageFormat.Bmp or ImageFormat.Gif or ImageFormat.WebP;

    public static ImageFormat Sniff(ReadOnlySpan<byte> header)
    {
        if (header.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
            return ImageFormat.Jpeg;
        if (header.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
            return ImageFormat.Png;
        if (header.StartsWith("GIF87a"u8) || header.StartsWith("GIF89a"u8))
            return ImageFormat.Gif;
        if (header.Length >= 12 && header.StartsWith("RIFF"u8) && header[8..12].SequenceEqual("WEBP"u8))
            return ImageFormat.WebP;
        // "BM" alone is too weak a signature: also require the header size of a known DIB header.
        if (header.Length >= 18 && header.StartsWith("BM"u8) && header[14] is 12 or 40 or 52 or 56 or 64 or 108 or 124)
            return ImageFormat.Bmp;
        return SniffMarkup(header);
    }

    /// <summary>The format a file name's extension claims, or null for an extension we do not know.</summary>
    public static ImageFormat? FromExtension(string fileName) =>
        Path.GetExtension(fileName).ToUpperInvariant() switch
        {
            ".JPG" or ".JPEG" or ".JPE" or ".JFIF" => ImageFormat.Jpeg,
            ".PNG" => ImageFormat.Png,
            ".BMP" or ".DIB" => ImageFormat.Bmp,
            ".GIF" => ImageFormat.Gif,
            ".WEBP" => ImageFormat.WebP,
            ".SVG" or ".SVGZ" => ImageFormat.Svg,
            ".HTM" or ".HTML" => ImageFormat.Html,
            ".TXT" => ImageFormat.Text,
            _ => null,
        };

    static ImageFormat SniffMarkup(ReadOnlySpan<byte> header)
    {
        var text = header;
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            text = text[3..];
        text = text.TrimStart(" \t\r\n"u8);
        if (text.IsEmpty)
            return ImageFormat.Unknown;

        if (text[0] == (byte)'<')
        {
            var lower = System.Text.Encoding.ASCII.GetString(text).ToLowerInvariant();
            if (lower.Contains("<svg", StringComparison.Ordinal))
                return ImageFormat.Svg;
            if (lower.Contains("<html", StringComparison.Ordinal) || lower.StartsWith("<!doctype html", StringComparison.Ordinal))
                return ImageFormat.Html;
            return ImageFormat.Text;
        }
        // Printable ASCII/UTF-8 with no control bytes other than whitespace reads as text.
        foreach (var b in text)
        {
            if (b < 0x09 || (b > 0x0D && b < 0x20) || b == 0x7F)
                return ImageFormat.Unknown;
        }
        return ImageFormat.Text;
    }
}
