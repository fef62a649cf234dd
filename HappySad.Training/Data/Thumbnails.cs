using SkiaSharp;

namespace HappySad.Training.Data;

/// <summary>
/// Small JPEG previews re-encoded from the decoded pixels, so a browser never receives the bytes
/// someone uploaded, only pixels we produced.
/// </summary>
public static class Thumbnails
{
    public const int DefaultSide = 160;

    /// <summary>A JPEG whose longer side is <paramref name="maxSide"/> (never enlarged), aspect ratio kept.</summary>
    public static byte[] Jpeg(string path, int maxSide = DefaultSide, int quality = 80, ImageLimits? limits = null)
    {
        limits = (limits ?? ImageLimits.Default) with { MinSide = 1 };
        // Read, not memory-mapped: a mapped file that shrinks under the decoder kills the process.
        var target = SKSizeI.Empty;
        using var source = ImageDecoder.DecodeBitmap(ImageDecoder.ReadFile(path, limits), (width, height) =>
        {
            var scale = Math.Min(1.0, maxSide / (double)Math.Max(width, height));
            target = new SKSizeI(Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
            return Math.Min(target.Width, target.Height);
        }, limits);
        var decoded = source.Bitmap;
        using var resized = new SKBitmap(new SKImageInfo(target.Width, target.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!decoded.ScalePixels(resized, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)))
            throw new ImageRejectedException(RejectionKind.Undecodable, "image could not be resized");
        // JPEG has no alpha: make every pixel opaque so transparent areas do not come out black by accident of premultiplication.
        using var opaque = new SKBitmap(new SKImageInfo(target.Width, target.Height, SKColorType.Rgb888x, SKAlphaType.Opaque));
        resized.CopyTo(opaque, SKColorType.Rgb888x);
        using var image = SKImage.FromBitmap(opaque);
        using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, quality)
            ?? throw new InvalidOperationException("JPEG encoding failed");
        return encoded.ToArray();
    }

    /// <summary>
    /// A JPEG of already-decoded HWC RGB pixels (<paramref name="size"/> square), such as an image
    /// of an <see cref="ImageSet"/>: what a model saw, not what is on disk now.
    /// </summary>
    public static byte[] Jpeg(ReadOnlySpan<byte> rgb, int size) => Jpeg(rgb, size, size);

    /// <summary>A JPEG of HWC RGB pixels <paramref name="width"/> wide and <paramref name="height"/> tall (a multi-view image's views stacked).</summary>
    public static byte[] Jpeg(ReadOnlySpan<byte> rgb, int width, int height, int quality = 80)
    {
        if (width < 1 || height < 1 || rgb.Length != width * height * 3)
            throw new ArgumentException($"expected {width}x{height} RGB pixels ({width * height * 3} bytes), got {rgb.Length} bytes", nameof(rgb));
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgb888x, SKAlphaType.Opaque));
        var pixels = new byte[width * height * 4];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            pixels[j] = rgb[i];
            pixels[j + 1] = rgb[i + 1];
            pixels[j + 2] = rgb[i + 2];
            pixels[j + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, quality)
            ?? throw new InvalidOperationException("JPEG encoding failed");
        return encoded.ToArray();
    }
}
