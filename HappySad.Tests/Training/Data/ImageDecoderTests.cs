using HappySad.Tests.Support;
using HappySad.Training.Data;
using SkiaSharp;

namespace HappySad.Tests.Training.Data;

public class ImageDecoderTests
{
    [Theory]
    [InlineData(SKEncodedImageFormat.Jpeg, ImageFormat.Jpeg)]
    [InlineData(SKEncodedImageFormat.Png, ImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Webp, ImageFormat.WebP)]
    public void AcceptsCommonFormatsByContent(SKEncodedImageFormat encoding, ImageFormat expected)
    {
        var image = ImageDecoder.Decode(TestImages.Solid(64, 48, SKColors.Orange, encoding));

        Assert.Equal(expected, image.Format);
        Assert.Equal((64, 48), (image.SourceWidth, image.SourceHeight));
        Assert.Equal(256 * 256 * 3, image.Rgb.Length);
    }

    [Fact]
    public void AcceptsBmpAndGif()
    {
        var bmp = ImageDecoder.Decode(TestImages.Bmp(40, 40, new SKColor(10, 200, 30)));
        Assert.Equal(ImageFormat.Bmp, bmp.Format);
        Assert.Equal((10, 200, 30), (bmp.R(128, 128), bmp.G(128, 128), bmp.B(128, 128)));

        var gif = ImageDecoder.Decode(TestImages.Gif(40, 40, new SKColor(250, 20, 120)));
        Assert.Equal(ImageFormat.Gif, gif.Format);
        Assert.Equal((250, 20, 120), (gif.R(128, 128), gif.G(128, 128), gif.B(128, 128)));
    }

    /// <summary>A folder named where a photo should be (predict's arguments) is called a folder, not a file without permission.</summary>
    [Fact]
    public void AFolderIsRefusedAsAFolder()
    {
        using var temp = new TempDirectory();

        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.ReadFile(temp.Path, ImageLimits.Default));

        Assert.Equal(RejectionKind.Unreadable, e.Kind);
        Assert.Equal("a folder, not a photo: name the photos in it", e.Message);
    }

    [Fact]
    public void RejectsZeroByteFile()
    {
        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(Array.Empty<byte>()));
        Assert.Equal(RejectionKind.Empty, e.Kind);
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsSvgDisguisedAsJpeg()
    {
        using var temp = new TempDirectory();
        var path = temp.File("smile.jpg");
        File.WriteAllText(path, """<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle r="40"/></svg>""");

        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(path));

        Assert.Equal(RejectionKind.Unsupported, e.Kind);
        Assert.Contains("SVG", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsHtmlPageAndPlainText()
    {
        var html = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode("<!DOCTYPE html><html><body>404</body></html>"u8.ToArray()));
        var text = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode("just some words\n"u8.ToArray()));

        Assert.Contains("HTML", html.Message, StringComparison.Ordinal);
        Assert.Contains("text", text.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsTruncatedJpeg()
    {
        var jpeg = TestImages.Draw(300, 300, c => c.Clear(SKColors.Teal), SKEncodedImageFormat.Jpeg);

        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(jpeg.AsSpan(0, jpeg.Length / 2)));

        Assert.Equal(RejectionKind.Truncated, e.Kind);
    }

    [Fact]
    public void RejectsImagesUnder32PixelsASide()
    {
        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(TestImages.Solid(31, 200, SKColors.Gray)));

        Assert.Equal(RejectionKind.TooSmall, e.Kind);
        Assert.Contains("31x200", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsDecompressionBombBeforeDecodingPixels()
    {
        // 50,000 x 50,000 claimed by a 57-byte file: decoding it would need 10 GB.
        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(TestImages.PngHeaderClaiming(50_000, 50_000)));

        Assert.Equal(RejectionKind.TooLarge, e.Kind);
        Assert.Contains("megapixel", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsFilesOverTheByteLimitBeforeReadingThem()
    {
        var limits = ImageLimits.Default with { MaxBytes = 1000 };

        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(new MemoryStream(new byte[5000]), limits: limits));

        Assert.Equal(RejectionKind.TooManyBytes, e.Kind);
    }

    [Fact]
    public void ResizesQuadrantsToTheSameQuadrants()
    {
        var image = ImageDecoder.Decode(TestImages.Quadrants(512));

        Assert.Equal((255, 0, 0), Rgb(image, 64, 64));
        Assert.Equal((0, 255, 0), Rgb(image, 192, 64));
        Assert.Equal((0, 0, 255), Rgb(image, 64, 192));
        Assert.Equal((255, 255, 255), Rgb(image, 192, 192));
    }

    [Fact]
    public void UpscalesBilinearlyBetweenPixelCentres()
    {
        // Two columns, black then white: bilinear with half-pixel centres gives a ramp in the middle.
        var narrow = TestImages.Draw(32, 32, c =>
        {
            using var paint = new SKPaint { Color = SKColors.White };
            c.Clear(SKColors.Black);
            c.DrawRect(16, 0, 16, 32, paint);
        });

        var image = ImageDecoder.Decode(narrow);

        // Scale 8: output x samples source (x + 0.5) / 8 - 0.5; the edge lies between source 15 and 16.
        Assert.Equal(0, image.R(10, 100));
        Assert.InRange(image.R(124, 100), 14, 18);   // 255 * 0.0625
        Assert.InRange(image.R(127, 100), 110, 114); // 255 * 0.4375
        Assert.InRange(image.R(128, 100), 141, 145); // 255 * 0.5625
        Assert.InRange(image.R(131, 100), 237, 241); // 255 * 0.9375
        Assert.Equal(255, image.R(245, 100));
    }

    [Fact]
    public void IgnoresAspectRatioLikeKeras()
    {
        // A wide image, left half red and right half blue: both halves fill half of the square.
        var wide = TestImages.Draw(800, 200, c =>
        {
            using var paint = new SKPaint { Color = SKColors.Blue };
            c.Clear(SKColors.Red);
            c.DrawRect(400, 0, 400, 200, paint);
        }, SKEncodedImageFormat.Jpeg);

        var image = ImageDecoder.Decode(wide);

        Assert.True(image.R(60, 128) > 230 && image.B(60, 128) < 30, "left quarter is red");
        Assert.True(image.B(196, 128) > 230 && image.R(196, 128) < 30, "right quarter is blue");
    }

    [Fact]
    public void ConvertsGrayscaleToThreeEqualChannels()
    {
        var gray = TestImages.Draw(64, 64, c => c.Clear(new SKColor(90, 90, 90)), SKEncodedImageFormat.Png, SKColorType.Gray8);

        var image = ImageDecoder.Decode(gray);

        Assert.Equal((90, 90, 90), Rgb(image, 100, 100));
    }

    [Fact]
    public void DropsAlphaKeepingTheColourAsTensorFlowDoes()
    {
        var translucent = TestImages.Solid(64, 64, new SKColor(200, 100, 50, 128));

        var image = ImageDecoder.Decode(translucent);

        Assert.Equal((200, 100, 50), Rgb(image, 128, 128));
    }

    [Fact]
    public void DecodesLargeJpegAtReducedScaleWithTheSameColours()
    {
        var big = TestImages.Quadrants(3000, SKEncodedImageFormat.Jpeg);

        var image = ImageDecoder.Decode(big);

        Assert.Equal((3000, 3000), (image.SourceWidth, image.SourceHeight));
        var (r, g, b) = Rgb(image, 64, 64);
        Assert.True(r > 240 && g < 15 && b < 15, $"top-left is red, got {r},{g},{b}");
    }

    static (int, int, int) Rgb(DecodedImage image, int x, int y) => (image.R(x, y), image.G(x, y), image.B(x, y));
}

/// <summary>Photos are read as they are shown: turned as their EXIF orientation says, as every browser turns them.</summary>
public class ImageOrientationTests
{
    /// <summary>The quadrants' colours (top left, top right, bottom left, bottom right) of a photo stored as red, green / blue, yellow, as shown with each EXIF orientation.</summary>
    [Theory]
    [InlineData(1, "RG/BY")]
    [InlineData(2, "GR/YB")] // mirrored left to right
    [InlineData(3, "YB/GR")] // turned half round
    [InlineData(4, "BY/RG")] // mirrored top to bottom
    [InlineData(5, "RB/GY")] // mirrored along the diagonal
    [InlineData(6, "BR/YG")] // turned a quarter clockwise: a phone held upright
    [InlineData(7, "YG/BR")] // mirrored along the other diagonal
    [InlineData(8, "GY/RB")] // turned a quarter anticlockwise
    public void APhotoIsTurnedAsItsExifOrientationSays(int orientation, string shown)
    {
        var stored = TestImages.Draw(120, 60, canvas =>
        {
            foreach (var (x, y, color) in new[] { (0, 0, SKColors.Red), (60, 0, SKColors.Lime), (0, 30, SKColors.Blue), (60, 30, SKColors.Yellow) })
                canvas.DrawRect(x, y, 60, 30, new SKPaint { Color = color });
        }, SKEncodedImageFormat.Jpeg);

        var image = ImageDecoder.Decode(WithExifOrientation(stored, orientation), size: 64);

        Assert.Equal(orientation >= 5 ? (60, 120) : (120, 60), (image.SourceWidth, image.SourceHeight));
        var quadrants = string.Concat(new[] { (16, 16), (48, 16), (16, 48), (48, 48) }.Select(p => Name(image.R(p.Item1, p.Item2), image.G(p.Item1, p.Item2), image.B(p.Item1, p.Item2))));
        Assert.Equal(shown.Replace("/", "", StringComparison.Ordinal), quadrants);
    }

    /// <summary>The nearest of the four colours, by its channels.</summary>
    static char Name(byte r, byte g, byte b) => (r > 128, g > 128, b > 128) switch
    {
        (true, false, false) => 'R',
        (false, true, false) => 'G',
        (false, false, true) => 'B',
        (true, true, false) => 'Y',
        _ => '?',
    };

    /// <summary>
    /// <paramref name="jpeg"/> with an EXIF block (APP1) right after its start marker holding only an
    /// Orientation tag: a big-endian TIFF header and one directory of one entry (0x0112, SHORT, 1 value).
    /// </summary>
    internal static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        byte[] tiff = [(byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte)orientation, 0, 0, 0, 0, 0, 0];
        byte[] exif = [.. "Exif\0\0"u8, .. tiff];
        var length = exif.Length + 2;
        return [0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. exif, .. jpeg.AsSpan(2)];
    }
}
