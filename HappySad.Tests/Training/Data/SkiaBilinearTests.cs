using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Faces;
using SkiaSharp;

namespace HappySad.Tests.Training.Data;

public class SkiaBilinearTests
{
    /// <summary>
    /// A third of the seed photos (all 301 were compared once, at four sizes), decoded as the face
    /// models decode them, scaled to fit the tiny detector's 416 and the SSD detector's 512 pixels,
    /// and to 200 (a stronger reduction): every byte Skia's.
    /// </summary>
    [Fact]
    public void ScalesSeedPhotosAsSkiaDoesToTheBit()
    {
        var files = Directory.EnumerateFiles(SharedPhotos.Root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Where((_, i) => i % 3 == 0).ToList();
        var scaled = 0;
        foreach (var file in files)
        {
            SourceBitmap source;
            try
            {
                source = ImageDecoder.DecodeBitmap(File.ReadAllBytes(file), FaceCrop.WorkingSize, limits: null, SourceUse.FaceWork);
            }
            catch (ImageRejectedException)
            {
                continue;
            }
            using (source)
            {
                foreach (var fit in new[] { 416, 512, 200 })
                {
                    var scale = (double)fit / Math.Max(source.Bitmap.Width, source.Bitmap.Height);
                    var (width, height) = (Math.Max(1, (int)Math.Round(source.Bitmap.Width * scale)), Math.Max(1, (int)Math.Round(source.Bitmap.Height * scale)));
                    AssertSameAsSkia(source.Bitmap, width, height, $"{Path.GetFileName(file)} to {width}x{height}");
                    scaled++;
                }
            }
        }
        Assert.True(scaled >= 3 * 95, $"only {scaled} scalings: the seed photos were not read");
    }

    /// <summary>
    /// Noise with every alpha (Skia scales unpremultiplied bytes as they are), enlarged and reduced,
    /// to one pixel and from one, and at widths that leave the vector loops a remainder.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 5, 3)]
    [InlineData(1, 9, 4, 1)]
    [InlineData(13, 5, 1, 1)]
    [InlineData(13, 5, 29, 11)]
    [InlineData(97, 131, 41, 60)]
    [InlineData(640, 3, 417, 2)]
    [InlineData(300, 200, 299, 199)]
    [InlineData(37, 23, 150, 93)]
    public void ScalesNoiseAsSkiaDoesToTheBit(int sourceWidth, int sourceHeight, int width, int height)
    {
        using var noise = new SKBitmap(new SKImageInfo(sourceWidth, sourceHeight, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        new Random(sourceWidth * 31 + sourceHeight).NextBytes(noise.GetPixelSpan());

        AssertSameAsSkia(noise, width, height, $"{sourceWidth}x{sourceHeight} to {width}x{height}");
    }

    /// <summary>
    /// The face models' whole-photo view is resized from their unpremultiplied working image through
    /// the copy of Skia's filter: Skia's bytes, and at the same size an exact copy.
    /// </summary>
    [Fact]
    public void TheFaceModelsWholeViewIsSkiasScaling()
    {
        var portrait = Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg");
        using var source = ImageDecoder.DecodeBitmap(File.ReadAllBytes(portrait), FaceCrop.WorkingSize, limits: null, SourceUse.FaceWork);
        Assert.Equal(SKAlphaType.Unpremul, source.Bitmap.AlphaType);

        Assert.Equal(Skia(source.Bitmap, 112, 112), ImageDecoder.ResizeToRgb(source.Bitmap, 112));

        using var square = new SKBitmap(new SKImageInfo(112, 112, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        new Random(9).NextBytes(square.GetPixelSpan());
        Assert.Equal(ImageDecoder.ToRgb(square), ImageDecoder.ResizeToRgb(square, 112));
    }

    /// <summary>A subset (as the tiled look cuts halves), whose rows lie further apart than its width.</summary>
    [Fact]
    public void ScalesASubsetOfALargerBitmapAsSkiaDoes()
    {
        using var noise = new SKBitmap(new SKImageInfo(60, 40, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        new Random(6).NextBytes(noise.GetPixelSpan());
        using var part = new SKBitmap();
        Assert.True(noise.ExtractSubset(part, SKRectI.Create(7, 5, 31, 22)));
        Assert.True(part.RowBytes > part.Width * 4);

        AssertSameAsSkia(part, 13, 9, "a 31x22 subset to 13x9");
    }

    /// <summary>Up to the longest side its fixed point holds, Skia's bytes; past it, Skia's own scaling.</summary>
    [Fact]
    public void LeavesASideTooLongForItsFixedPointToSkia()
    {
        using var widest = new SKBitmap(new SKImageInfo(SkiaBilinear.MaxSide, 2, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        new Random(8).NextBytes(widest.GetPixelSpan());
        AssertSameAsSkia(widest, 416, 1, $"{SkiaBilinear.MaxSide}x2 to 416x1");

        using var wider = new SKBitmap(new SKImageInfo(SkiaBilinear.MaxSide + 1, 2, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Assert.False(SkiaBilinear.TryScaleToRgb(wider, 416, 1, new byte[416 * 3], 416 * 3));
    }

    [Fact]
    public void WritesOnlyTheScaledCornerOfAWiderOutput()
    {
        using var noise = new SKBitmap(new SKImageInfo(20, 10, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        new Random(5).NextBytes(noise.GetPixelSpan());
        var square = Enumerable.Repeat((byte)7, 16 * 16 * 3).ToArray();

        Assert.True(SkiaBilinear.TryScaleToRgb(noise, 16, 8, square, 16 * 3));

        Assert.Equal(Skia(noise, 16, 8), Enumerable.Range(0, 8).SelectMany(y => square.Skip(y * 48).Take(48)).ToArray());
        Assert.All(square.Skip(8 * 48), b => Assert.Equal(7, b));
    }

    [Theory]
    [InlineData(SKColorType.Bgra8888, SKAlphaType.Unpremul)]
    [InlineData(SKColorType.Rgba8888, SKAlphaType.Premul)]
    [InlineData(SKColorType.Rgba8888, SKAlphaType.Opaque)]
    public void LeavesOtherPixelFormatsToSkia(SKColorType colorType, SKAlphaType alphaType)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(8, 8, colorType, alphaType));
        var rgb = new byte[4 * 4 * 3];

        Assert.False(SkiaBilinear.TryScaleToRgb(bitmap, 4, 4, rgb, 12));
    }

    /// <summary>
    /// The portable rounding multiply (for processors without SSSE3) is <c>(a * b + 2^14) >> 15</c>
    /// in every lane, as <c>pmulhrsw</c> is, over the blends' whole range.
    /// </summary>
    [Fact]
    public void ThePortableRoundingMultiplyRoundsAsSsse3Does()
    {
        var random = new Random(11);
        var values = new short[8];
        var weights = new short[8];
        for (var round = 0; round < 20_000; round++)
        {
            for (var i = 0; i < 8; i++)
            {
                values[i] = (short)random.Next(-255 << 7, (255 << 7) + 1);
                weights[i] = (short)random.Next(short.MinValue, short.MaxValue + 1);
            }
            var (a, b) = (Vector128.Create<short>(values), Vector128.Create<short>(weights));
            var expected = Vector128.Create<short>([.. values.Zip(weights, (v, w) => (short)(((v * w) + (1 << 14)) >> 15))]);
            Assert.Equal(expected, SkiaBilinear.PortableScaledMultiply(a, b));
            if (Ssse3.IsSupported)
                Assert.Equal(expected, Ssse3.MultiplyHighRoundScale(a, b));
        }
    }

    static void AssertSameAsSkia(SKBitmap source, int width, int height, string what)
    {
        var ours = new byte[width * height * 3];
        Assert.True(SkiaBilinear.TryScaleToRgb(source, width, height, ours, width * 3), what);
        var skia = Skia(source, width, height);
        var differing = ours.Zip(skia).Count(pair => pair.First != pair.Second);
        Assert.True(differing == 0, $"{what}: {differing} of {ours.Length} bytes differ from Skia's");
    }

    static byte[] Skia(SKBitmap source, int width, int height)
    {
        using var resized = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Assert.True(source.ScalePixels(resized, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)));
        return ImageDecoder.ToRgb(resized);
    }
}
