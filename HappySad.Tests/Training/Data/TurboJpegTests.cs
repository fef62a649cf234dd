using HappySad.Tests.Support;
using HappySad.Training.Data;
using SkiaSharp;

namespace HappySad.Tests.Training.Data;

/// <summary>
/// The system's libjpeg-turbo decodes JPEGs only where it gives Skia's pixels to the bit, so models
/// trained on either decoder read the same numbers; everything else stays with Skia.
/// </summary>
public class TurboJpegTests
{
    /// <summary>A 40x40 CMYK JPEG (ImageMagick: <c>xc:'rgb(200,30,60)' -colorspace CMYK</c>), which Skia decodes and the library cannot.</summary>
    static readonly byte[] CmykJpeg = Convert.FromBase64String(
        "/9j/7gAOQWRvYmUAZAAAAAAC/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/9sAQwECAgICAgIFAwMFCgcGBwoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK/8AAFAgAKAAoBAERAAIRAQMRAQQRAP/EABYAAQEBAAAAAAAAAAAAAAAAAAAHCf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/xAAWAQEBAQAAAAAAAAAAAAAAAAAABwn/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADgQBAAIRAxEEAAA/AKgojFtpAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA//Z");

    [Fact]
    public void EverySeedJpegDecodesToSkiasPixelsAtFullSizeAndAnEighth()
    {
        Assert.True(TurboJpeg.Available, "libturbojpeg.so.0 was not found: apt-get install libturbojpeg0 (.ci/run installs it)");
        var jpegs = Directory.EnumerateFiles(SharedPhotos.Root, "*", SearchOption.AllDirectories)
            .Select(path => (Path: path, Bytes: File.ReadAllBytes(path)))
            .Where(file => ImageSniffer.Sniff(file.Bytes) == ImageFormat.Jpeg)
            .ToList();
        Assert.True(jpegs.Count > 250, $"expected the seed photos' JPEGs, found {jpegs.Count}");

        var compared = 0;
        var declined = new List<string>();
        foreach (var (index, (path, jpeg)) in jpegs.Index())
        {
            using var codec = SKCodec.Create(SKData.CreateCopy(jpeg));
            // Full size (the face models' working image) and one of the smaller eighths, taking
            // turns, so every eighth is checked on about 40 photos.
            foreach (var eighths in new[] { 8, 1 + (index % 7) })
            {
                var size = codec.GetScaledDimensions(eighths / 8f);
                var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
                using var skia = new SKBitmap(info);
                using var turbo = new SKBitmap(info);
                Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, skia.GetPixels()));

                if (!TurboJpeg.TryDecode(jpeg, turbo))
                {
                    declined.Add($"{Path.GetRelativePath(SharedPhotos.Root, path).Replace('\\', '/')} {eighths}/8");
                    continue;
                }
                Assert.True(skia.GetPixelSpan().SequenceEqual(turbo.GetPixelSpan()), $"pixels differ at {eighths}/8 ({size})");
                compared++;
            }
        }
        Assert.Equal(jpegs.Count * 2, compared + declined.Count);
        // happy/1-2.jpg samples luma 2x3, a layout TurboJPEG 2.1's header reader refuses to name
        // (3.0 decodes it): Skia decodes it, as it did before. Any other decline is a regression.
        Assert.All(declined, d => Assert.StartsWith("happy/1-2.jpg ", d, StringComparison.Ordinal));
    }

    [Fact]
    public void ACmykJpegIsLeftToSkiaAndStillDecodes()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(40, 40, SKColorType.Rgba8888, SKAlphaType.Unpremul));

        Assert.False(TurboJpeg.TryDecode(CmykJpeg, bitmap));

        var image = ImageDecoder.Decode(CmykJpeg, 32);
        var (r, g, b) = (image.R(16, 16), image.G(16, 16), image.B(16, 16));
        Assert.True(r > 150 && g < 90 && b < 110, $"expected the file's red, got ({r}, {g}, {b})");
    }

    [Fact]
    public void AJpegThatMakesLibjpegWarnIsLeftToSkiaAndDecodesAsSkiaDecodesIt()
    {
        var clean = TestImages.Blocks(seed: 3, width: 200, height: 150, format: SKEncodedImageFormat.Jpeg);
        using var bitmap = new SKBitmap(new SKImageInfo(200, 150, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Assert.True(TurboJpeg.TryDecode(clean, bitmap));
        // The scan cut short and the end-of-image marker after it: libjpeg warns "premature end of
        // data segment" and fills the rest of the scan, which is how Skia decodes it.
        byte[] jpeg = [.. clean.AsSpan(0, clean.Length * 3 / 4), 0xFF, 0xD9];

        Assert.False(TurboJpeg.TryDecode(jpeg, bitmap));

        var decoded = ImageDecoder.Decode(jpeg, 200);
        using var skia = SKBitmap.Decode(jpeg);
        Assert.Equal(Resized(skia, 200), decoded.Rgb);
    }

    [Fact]
    public void ATruncatedJpegIsDeclined()
    {
        var jpeg = TestImages.Blocks(seed: 3, width: 200, height: 150, format: SKEncodedImageFormat.Jpeg);
        using var bitmap = new SKBitmap(new SKImageInfo(200, 150, SKColorType.Rgba8888, SKAlphaType.Unpremul));

        Assert.False(TurboJpeg.TryDecode(jpeg.AsSpan(0, jpeg.Length / 2), bitmap));
    }

    [Theory]
    [InlineData(199, 150)] // a size no eighth of 200x150 gives
    [InlineData(100, 76)] // one side a half, the other not
    public void ASizeThatIsNoEighthOfThePhotoIsLeftToSkia(int width, int height)
    {
        var jpeg = TestImages.Blocks(seed: 4, width: 200, height: 150, format: SKEncodedImageFormat.Jpeg);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));

        Assert.False(TurboJpeg.TryDecode(jpeg, bitmap));
    }

    /// <summary>Skia's decode of an opaque JPEG, resized the way <see cref="ImageDecoder"/> resizes whole photos.</summary>
    static byte[] Resized(SKBitmap decoded, int size)
    {
        using var opaque = new SKBitmap(new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Assert.True(decoded.CopyTo(opaque, SKColorType.Rgba8888));
        return BilinearResize.ToRgb(opaque.GetPixelSpan(), opaque.Width, opaque.Height, opaque.RowBytes, size);
    }

    [Fact]
    public void APngIsNotAJpeg()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul));

        Assert.False(TurboJpeg.TryDecode(TestImages.Quadrants(64), bitmap));
    }
}
