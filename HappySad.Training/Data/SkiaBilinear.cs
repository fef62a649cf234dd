using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SkiaSharp;

namespace HappySad.Training.Data;

/// <summary>
/// Skia's <c>ScalePixels</c> with linear sampling, for an unpremultiplied RGBA8888 image into an
/// unpremultiplied one, reproduced to the bit: the face detectors were measured, and the face
/// models trained, on Skia's pixels, and every byte here is Skia's (the tests compare every pixel).
/// Skia runs it through its general raster pipeline (SSE2 in SkiaSharp's build), 1.8 to 2.2 ms for
/// a 1-megapixel photo scaled to the tiny detector's 416 px (1.7 to 2.2 ms); this takes a fraction of that.
/// </summary>
/// <remarks>
/// <para>
/// What Skia does (<c>SkPixmap::scalePixels</c> and the low-precision <c>bilerp_clamp_8888</c>
/// stage): with both sides unpremultiplied it reads the bytes as they are, never premultiplying.
/// Output pixel <c>(x, y)</c> samples the source at <c>((x + 0.5) / s, (y + 0.5) / s)</c>, the
/// inverse scale taken in single precision as <c>1 / (out / in)</c>. The sample point is quantised
/// to 16.16 fixed point less a half pixel; its whole part picks two neighbours on each axis (clamped
/// to the edges) and its fraction becomes a signed Q15 weight <c>t</c>. Each channel, shifted left
/// by 7, is blended along x as <c>(q(b - a, t) + a + b + 1) >> 1</c>, then the two rows along y as
/// <c>(q(d - c, t) + c + d + 128) >> 8</c>, where <c>q(u, v) = (u * v + 2^14) >> 15</c> (SSSE3's
/// <c>pmulhrsw</c>).
/// </para>
/// <para>
/// Blending along x depends only on the source row, so each output row blends its two source rows
/// (kept when the next output row reads one again) and then blends those, sixteen channels at a
/// time. Only red, green and blue are written.
/// </para>
/// </remarks>
internal static class SkiaBilinear
{
    /// <summary>
    /// Scales <paramref name="source"/> to <paramref name="width"/> x <paramref name="height"/> and
    /// writes it as HWC RGB bytes into the top-left corner of <paramref name="rgb"/>, whose rows are
    /// <paramref name="rgbRowBytes"/> apart (the rest is left as it is). False, with nothing written,
    /// for any other pixel format, and for a side over <see cref="MaxSide"/>: the caller asks Skia.
    /// </summary>
    public static bool TryScaleToRgb(SKBitmap source, int width, int height, Span<byte> rgb, int rgbRowBytes)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source is not { ColorType: SKColorType.Rgba8888, AlphaType: SKAlphaType.Unpremul } || source.Width is < 1 or > MaxSide || source.Height is < 1 or > MaxSide)
            return false;
        ScaleToRgb(source.GetPixelSpan(), source.Width, source.Height, source.RowBytes, width, height, rgb, rgbRowBytes);
        return true;
    }

    /// <summary>
    /// The longest source side this copies Skia on: sample points in 16.16 fixed point need 32 bits
    /// there, and Skia's bytes are these up to 32,766 pixels but not at 32,767 (measured; a panorama
    /// within the pixel limit can be 40,000 pixels wide). Longer sides go to Skia itself.
    /// </summary>
    public const int MaxSide = 32766;

    /// <summary>The scaling of <see cref="TryScaleToRgb"/> on raw RGBA bytes (sides at most <see cref="MaxSide"/>).</summary>
    public static void ScaleToRgb(ReadOnlySpan<byte> rgba, int sourceWidth, int sourceHeight, int sourceRowBytes, int width, int height, Span<byte> rgb, int rgbRowBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceHeight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sourceWidth, MaxSide);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sourceHeight, MaxSide);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceRowBytes, sourceWidth * 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(rgba.Length, ((sourceHeight - 1) * (long)sourceRowBytes) + (sourceWidth * 4), nameof(rgba));
        ArgumentOutOfRangeException.ThrowIfLessThan(rgbRowBytes, width * 3);
        ArgumentOutOfRangeException.ThrowIfLessThan(rgb.Length, ((height - 1) * (long)rgbRowBytes) + (width * 3), nameof(rgb));

        var columns = Taps(sourceWidth, width);
        // Each output pixel's weight for its four channels, so the blends run sixteen channels at a time.
        var weights = new short[width * 4];
        for (var x = 0; x < width; x++)
            weights.AsSpan(x * 4, 4).Fill(columns.Weight[x]);

        var channels = width * 4;
        var (upper, lower) = (new ushort[channels], new ushort[channels]);
        var (upperRow, lowerRow) = (-1, -1);
        var pairs = new uint[width * 2];
        var blended = new byte[channels];
        var rows = Taps(sourceHeight, height);
        for (var y = 0; y < height; y++)
        {
            var (first, second) = (rows.First[y], rows.Second[y]);
            // Output rows step down the source, so a row blended for the last output row is often read again.
            if (first == lowerRow)
                (upper, lower, upperRow, lowerRow) = (lower, upper, lowerRow, upperRow);
            if (first != upperRow)
                BlendAlongX(rgba.Slice(first * sourceRowBytes, sourceWidth * 4), columns, weights, pairs, upper);
            if (second != lowerRow)
            {
                if (second == first)
                    upper.CopyTo(lower, 0);
                else
                    BlendAlongX(rgba.Slice(second * sourceRowBytes, sourceWidth * 4), columns, weights, pairs, lower);
            }
            (upperRow, lowerRow) = (first, second);

            BlendAlongY(upper, lower, rows.Weight[y], blended);
            var output = rgb.Slice(y * rgbRowBytes, width * 3);
            for (int x = 0, from = 0, to = 0; x < width; x++, from += 4, to += 3)
            {
                output[to] = blended[from];
                output[to + 1] = blended[from + 1];
                output[to + 2] = blended[from + 2];
            }
        }
    }

    /// <summary>For each output position: its two source positions and the second's Q15 weight, as Skia quantises them.</summary>
    internal static (int[] First, int[] Second, short[] Weight) Taps(int sourceSize, int size)
    {
        var first = new int[size];
        var second = new int[size];
        var weight = new short[size];
        var inverse = 1.0f / ((float)size / sourceSize);
        for (var i = 0; i < size; i++)
        {
            var centre = (i + 0.5f) * inverse;
            var fixedPoint = (int)MathF.Floor((65536.0f * centre) + 0.5f) - 32768;
            var whole = fixedPoint >> 16;
            first[i] = Math.Clamp(whole, 0, sourceSize - 1);
            second[i] = Math.Clamp(whole + 1, 0, sourceSize - 1);
            weight[i] = (short)(fixedPoint ^ 0x8000);
        }
        return (first, second, weight);
    }

    /// <summary>One source row blended along x for every output column: four channels a pixel, each in 15 bits.</summary>
    static void BlendAlongX(ReadOnlySpan<byte> row, (int[] First, int[] Second, short[] Weight) columns, short[] weights, uint[] pairs, ushort[] output)
    {
        var pixels = MemoryMarshal.Cast<byte, uint>(row);
        var width = columns.First.Length;
        // Gathered first, left then right pixel of each column, so the arithmetic below reads straight runs.
        for (var x = 0; x < width; x++)
        {
            pairs[x] = pixels[columns.First[x]];
            pairs[width + x] = pixels[columns.Second[x]];
        }
        var bytes = MemoryMarshal.AsBytes(pairs.AsSpan());
        var left = bytes[..(width * 4)];
        var right = bytes[(width * 4)..];
        var i = 0;
        for (; i + Vector128<byte>.Count <= left.Length; i += Vector128<byte>.Count)
        {
            var (a0, a1) = Vector128.Widen(Vector128.Create(left[i..]));
            var (b0, b1) = Vector128.Widen(Vector128.Create(right[i..]));
            Lerp(a0, b0, Vector128.Create<short>(weights.AsSpan(i))).CopyTo(output.AsSpan(i));
            Lerp(a1, b1, Vector128.Create<short>(weights.AsSpan(i + 8))).CopyTo(output.AsSpan(i + 8));
        }
        for (; i < left.Length; i++)
        {
            int a = left[i] << 7, b = right[i] << 7;
            output[i] = (ushort)((ScaledMultiply(b - a, weights[i]) + a + b + 1) >> 1);
        }
    }

    static Vector128<ushort> Lerp(Vector128<ushort> a, Vector128<ushort> b, Vector128<short> weight)
    {
        a = Vector128.ShiftLeft(a, 7);
        b = Vector128.ShiftLeft(b, 7);
        var blend = ScaledMultiply((b - a).AsInt16(), weight).AsUInt16() + a + b + Vector128<ushort>.One;
        return Vector128.ShiftRightLogical(blend, 1);
    }

    /// <summary>The two rows' blends blended along y, to bytes.</summary>
    static void BlendAlongY(ushort[] upper, ushort[] lower, short weight, byte[] output)
    {
        var w = Vector128.Create(weight);
        var half = Vector128.Create((ushort)128);
        var i = 0;
        for (; i + (2 * Vector128<ushort>.Count) <= upper.Length; i += 2 * Vector128<ushort>.Count)
        {
            var low = Blend(Vector128.Create<ushort>(upper.AsSpan(i)), Vector128.Create<ushort>(lower.AsSpan(i)), w, half);
            var high = Blend(Vector128.Create<ushort>(upper.AsSpan(i + 8)), Vector128.Create<ushort>(lower.AsSpan(i + 8)), w, half);
            Vector128.Narrow(low, high).CopyTo(output.AsSpan(i));
        }
        for (; i < upper.Length; i++)
            output[i] = (byte)((ScaledMultiply(lower[i] - upper[i], weight) + upper[i] + lower[i] + 128) >> 8);
    }

    static Vector128<ushort> Blend(Vector128<ushort> c, Vector128<ushort> d, Vector128<short> weight, Vector128<ushort> half) =>
        Vector128.ShiftRightLogical(ScaledMultiply((d - c).AsInt16(), weight).AsUInt16() + c + d + half, 8);

    /// <summary><c>(a * b + 2^14) >> 15</c> in each lane: SSSE3's <c>pmulhrsw</c>, Skia's <c>scaled_mult</c>.</summary>
    static Vector128<short> ScaledMultiply(Vector128<short> a, Vector128<short> b) =>
        Ssse3.IsSupported ? Ssse3.MultiplyHighRoundScale(a, b) : PortableScaledMultiply(a, b);

    /// <summary><see cref="ScaledMultiply(Vector128{short}, Vector128{short})"/> without SSSE3 (ARM, old processors).</summary>
    internal static Vector128<short> PortableScaledMultiply(Vector128<short> a, Vector128<short> b)
    {
        var (a0, a1) = Vector128.Widen(a);
        var (b0, b1) = Vector128.Widen(b);
        var round = Vector128.Create(1 << 14);
        return Vector128.Narrow(Vector128.ShiftRightArithmetic((a0 * b0) + round, 15), Vector128.ShiftRightArithmetic((a1 * b1) + round, 15));
    }

    static int ScaledMultiply(int a, int b) => ((a * b) + (1 << 14)) >> 15;
}
