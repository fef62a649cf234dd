using HappySad.Tests.Support;
using HappySad.Training.Data;
using SkiaSharp;

namespace HappySad.Tests.Training.Data;

public class ThumbnailsTests
{
    [Fact]
    public void ATallImageShrinksToTheLongSideKeepingItsColours()
    {
        using var temp = new TempDirectory();
        var path = temp.File("tall.png");
        // Top half red, bottom half blue, 200x400.
        File.WriteAllBytes(path, TestImages.Draw(200, 400, canvas =>
        {
            using var paint = new SKPaint { Color = SKColors.Red };
            canvas.DrawRect(0, 0, 200, 200, paint);
            paint.Color = SKColors.Blue;
            canvas.DrawRect(0, 200, 200, 200, paint);
        }));

        var jpeg = Thumbnails.Jpeg(path, 160);

        Assert.Equal(ImageFormat.Jpeg, ImageSniffer.Sniff(jpeg));
        using var thumbnail = SKBitmap.Decode(jpeg);
        Assert.Equal((80, 160), (thumbnail.Width, thumbnail.Height));
        var top = thumbnail.GetPixel(40, 30);
        var bottom = thumbnail.GetPixel(40, 130);
        Assert.True(top.Red > 230 && top.Blue < 30, $"top should be red, was {top}");
        Assert.True(bottom.Blue > 230 && bottom.Red < 30, $"bottom should be blue, was {bottom}");
    }

    [Fact]
    public void ASmallImageIsNeverEnlarged()
    {
        using var temp = new TempDirectory();
        var path = temp.File("small.png");
        File.WriteAllBytes(path, TestImages.Solid(64, 48, SKColors.Green));

        using var thumbnail = SKBitmap.Decode(Thumbnails.Jpeg(path, 160));

        Assert.Equal((64, 48), (thumbnail.Width, thumbnail.Height));
    }

    [Fact]
    public void AThumbnailIsMadeWithinTheLimitsItIsGiven()
    {
        using var temp = new TempDirectory();
        var path = temp.File("wide.png");
        File.WriteAllBytes(path, TestImages.Solid(400, 300, SKColors.Green));

        var e = Assert.Throws<ImageRejectedException>(() => Thumbnails.Jpeg(path, 160, limits: ImageLimits.Default with { MaxPixels = 100_000 }));

        Assert.Equal(RejectionKind.TooLarge, e.Kind);
        Assert.NotEmpty(Thumbnails.Jpeg(path, 160, limits: ImageLimits.Default with { MaxPixels = 120_000 }));
    }

    [Fact]
    public void ATruncatedJpegGetsNoThumbnailPaddedWithGrey()
    {
        using var temp = new TempDirectory();
        var path = temp.File("cut.jpg");
        var jpeg = HostileFiles.ProgressiveJpeg;
        File.WriteAllBytes(path, jpeg[..(jpeg.Length * 2 / 3)]);

        var e = Assert.Throws<ImageRejectedException>(() => Thumbnails.Jpeg(path, 160));

        Assert.Equal(RejectionKind.Truncated, e.Kind);
    }

    [Fact]
    public void ATwoViewImageBecomesOneTallJpegWithItsViewsInOrder()
    {
        // What a face-and-whole model saw: a black face view (no face) above a white photo view.
        var rgb = new byte[2 * 16 * 16 * 3];
        Array.Fill(rgb, (byte)255, 16 * 16 * 3, 16 * 16 * 3);

        using var picture = SKBitmap.Decode(Thumbnails.Jpeg(rgb, 16, 32));

        Assert.Equal((16, 32), (picture.Width, picture.Height));
        Assert.True(picture.GetPixel(8, 4).Red < 20, $"top should be black, was {picture.GetPixel(8, 4)}");
        Assert.True(picture.GetPixel(8, 28).Red > 235, $"bottom should be white, was {picture.GetPixel(8, 28)}");
    }
}
