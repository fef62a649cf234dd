using System.Runtime.InteropServices;
using SkiaSharp;

namespace HappySad.Training.Data;

/// <summary>
/// Turns a decoded photo the way its EXIF orientation says it is shown. A phone stores a portrait as a
/// landscape sensor image with "rotate 90°" in its EXIF, and every browser shows it upright; a model
/// reading the stored pixels would see the face on its side, where no detector looks for one.
/// </summary>
public static class Orientation
{
    /// <summary>Whether the photo is shown with its width and height exchanged (the four orientations that turn it a quarter).</summary>
    public static bool SwapsSides(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>
    /// <paramref name="stored"/> as <paramref name="origin"/> says it is shown: the same bitmap when it
    /// needs no turn, else a new one with every pixel moved exactly (no resampling); the stored one is
    /// then disposed, whether or not the turn succeeded.
    /// </summary>
    public static SKBitmap Upright(SKBitmap stored, SKEncodedOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (origin is SKEncodedOrigin.TopLeft || !Enum.IsDefined(origin))
            return stored;
        if (stored.BytesPerPixel != 4)
            throw new NotSupportedException($"turning a {stored.ColorType} bitmap");
        var (width, height) = (stored.Width, stored.Height);
        var (shownWidth, shownHeight) = SwapsSides(origin) ? (height, width) : (width, height);
        var shown = new SKBitmap(new SKImageInfo(shownWidth, shownHeight, stored.ColorType, stored.AlphaType));
        try
        {
            var from = MemoryMarshal.Cast<byte, uint>(stored.GetPixelSpan());
            var to = MemoryMarshal.Cast<byte, uint>(shown.GetPixelSpan());
            var (fromStride, toStride) = (stored.RowBytes / 4, shown.RowBytes / 4);
            for (var y = 0; y < shownHeight; y++)
            {
                var row = to.Slice(y * toStride, shownWidth);
                for (var x = 0; x < shownWidth; x++)
                {
                    // Where the shown pixel (x, y) is stored, for each of EXIF's orientations 2 to 8.
                    var (sx, sy) = origin switch
                    {
                        SKEncodedOrigin.TopRight => (width - 1 - x, y),
                        SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y),
                        SKEncodedOrigin.BottomLeft => (x, height - 1 - y),
                        SKEncodedOrigin.LeftTop => (y, x),
                        SKEncodedOrigin.RightTop => (y, height - 1 - x),
                        SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x),
                        _ => (width - 1 - y, x), // LeftBottom
                    };
                    row[x] = from[sy * fromStride + sx];
                }
            }
        }
        catch
        {
            shown.Dispose();
            throw;
        }
        finally
        {
            stored.Dispose();
        }
        return shown;
    }
}
