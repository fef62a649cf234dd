using HappySad.Tests.Support;
using HappySad.Training.Data;
using SkiaSharp;

namespace HappySad.Tests.Training.Data;

public class BilinearResizeTests
{
    [Fact]
    public void ResizesSeedPhotosAsSkiaDoesToWithinOneLevel()
    {
        var files = Directory.EnumerateFiles(Path.Combine(SharedPhotos.Root, "happy")).Order(StringComparer.Ordinal).Take(12).ToList();
        long equal = 0, total = 0;
        foreach (var file in files)
        {
            using var source = ImageDecoder.DecodeBitmap(File.ReadAllBytes(file), 256, limits: null);
            Assert.Equal(SKAlphaType.Opaque, source.Bitmap.AlphaType);

            var ours = BilinearResize.ToRgb(source.Bitmap.GetPixelSpan(), source.Bitmap.Width, source.Bitmap.Height, source.Bitmap.RowBytes, 256);
            var skia = SkiaResize(source.Bitmap, 256);

            for (var i = 0; i < ours.Length; i++)
            {
                Assert.True(Math.Abs(ours[i] - skia[i]) <= 1, $"{Path.GetFileName(file)} byte {i}: {ours[i]} vs Skia's {skia[i]}");
                equal += ours[i] == skia[i] ? 1 : 0;
            }
            total += ours.Length;
        }
        Assert.True(equal > total * 0.99, $"{equal} of {total} bytes equal to Skia's");
    }

    [Fact]
    public void UpscalesAndKeepsASameSizeImageExactly()
    {
        using var noise = Noise(40, 30, seed: 3);

        var upscaled = BilinearResize.ToRgb(noise.GetPixelSpan(), 40, 30, noise.RowBytes, 64);
        var skia = SkiaResize(noise, 64);
        Assert.All(upscaled.Zip(skia), pair => Assert.InRange(pair.First - pair.Second, -1, 1));

        using var square = Noise(48, 48, seed: 4);
        Assert.Equal(ImageDecoder.ToRgb(square), BilinearResize.ToRgb(square.GetPixelSpan(), 48, 48, square.RowBytes, 48));
    }

    [Theory]
    [InlineData(256, false, 434, 325)] // 3/8 of 1155x866: a 1-megapixel photo for the whole-photo models
    [InlineData(512, false, 722, 542)] // 5/8, rounded up as libjpeg does
    [InlineData(1000, false, 1155, 866)] // nothing smaller covers it: full size
    [InlineData(256, true, 578, 433)] // the face models' steps: 1/2 ...
    [InlineData(512, true, 1155, 866)] // ... and full size where 1/2 does not cover their working size
    public void DecodesAJpegAtTheSmallestStepThatCoversTheTarget(int cover, bool faceWork, int width, int height)
    {
        var jpeg = TestImages.Quadrants(866, SKEncodedImageFormat.Jpeg);
        using var wide = SKBitmap.Decode(jpeg).Resize(new SKImageInfo(1155, 866), new SKSamplingOptions(SKFilterMode.Linear));
        var encoded = TestImages.Encode(wide, SKEncodedImageFormat.Jpeg);
        using var codec = SKCodec.Create(SKData.CreateCopy(encoded));

        using var decoded = ImageDecoder.DecodeScaled(codec, encoded, cover, ImageFormat.Jpeg, faceWork ? SourceUse.FaceWork : SourceUse.WholePhoto);

        Assert.Equal((width, height), (decoded.Width, decoded.Height));
    }

    static byte[] SkiaResize(SKBitmap source, int size)
    {
        using var resized = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Assert.True(source.ScalePixels(resized, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)));
        return ImageDecoder.ToRgb(resized);
    }

    static SKBitmap Noise(int width, int height, int seed)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var random = new Random(seed);
        var pixels = bitmap.GetPixelSpan();
        for (var i = 0; i < pixels.Length; i++)
            pixels[i] = (i & 3) == 3 ? (byte)255 : (byte)random.Next(256);
        return bitmap;
    }
}
