using System.Numerics;

namespace HappySad.Training.Data;

/// <summary>
/// Bilinear resampling of an opaque RGBA image to a square RGB one: the filter Skia's
/// <c>ScalePixels</c> applies with linear sampling (samples at pixel centres, edges clamped), in
/// single precision, so the bytes match Skia's to within 1 (measured on the seed photos: 99.8% equal,
/// the rest 1 apart). Written out because Skia's general pipeline spends 0.9 ms on one photo's
/// 256x256 and this takes 0.25 ms, which is a tenth of a served prediction.
/// </summary>
/// <remarks>
/// Bilinear filtering is separable: each output row first blends its two source rows (whole rows
/// at a time, vectorised), then each output pixel blends two neighbours of that blended row.
/// Images with transparency keep going through Skia, which filters premultiplied colours.
/// </remarks>
internal static class BilinearResize
{
    public static byte[] ToRgb(ReadOnlySpan<byte> rgba, int width, int height, int rowBytes, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowBytes, width * 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(rgba.Length, (height - 1) * rowBytes + width * 4, nameof(rgba));

        var columns = Taps(width, size, 4);
        var rows = Taps(height, size, rowBytes);
        var lineLength = width * 4;
        var line = new float[lineLength];
        var rgb = new byte[size * size * 3];
        for (var y = 0; y < size; y++)
        {
            BlendRows(rgba.Slice(rows.First[y], lineLength), rgba.Slice(rows.Second[y], lineLength), rows.Weight[y], line);
            var output = rgb.AsSpan(y * size * 3, size * 3);
            for (var x = 0; x < size; x++)
            {
                int a = columns.First[x], b = columns.Second[x];
                var t = columns.Weight[x];
                output[x * 3] = Round(line[a] + (line[b] - line[a]) * t);
                output[x * 3 + 1] = Round(line[a + 1] + (line[b + 1] - line[a + 1]) * t);
                output[x * 3 + 2] = Round(line[a + 2] + (line[b + 2] - line[a + 2]) * t);
            }
        }
        return rgb;
    }

    /// <summary>Values are blends of bytes, so within 0..255: round half up, as Skia stores.</summary>
    static byte Round(float value) => (byte)(int)(value + 0.5f);

    /// <summary><c>line = first + (second - first) * weight</c>, as floats, a vector at a time.</summary>
    static void BlendRows(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, float weight, Span<float> line)
    {
        var w = new Vector<float>(weight);
        var i = 0;
        for (; i + Vector<byte>.Count <= first.Length; i += Vector<byte>.Count)
        {
            Vector.Widen(new Vector<byte>(first[i..]), out var a0, out var a1);
            Vector.Widen(new Vector<byte>(second[i..]), out var b0, out var b1);
            Vector.Widen(a0, out var a00, out var a01);
            Vector.Widen(a1, out var a10, out var a11);
            Vector.Widen(b0, out var b00, out var b01);
            Vector.Widen(b1, out var b10, out var b11);
            var n = Vector<float>.Count;
            Blend(a00, b00, w).CopyTo(line[i..]);
            Blend(a01, b01, w).CopyTo(line[(i + n)..]);
            Blend(a10, b10, w).CopyTo(line[(i + 2 * n)..]);
            Blend(a11, b11, w).CopyTo(line[(i + 3 * n)..]);
        }
        for (; i < first.Length; i++)
            line[i] = first[i] + (second[i] - first[i]) * weight;
    }

    static Vector<float> Blend(Vector<uint> first, Vector<uint> second, Vector<float> weight)
    {
        var a = Vector.ConvertToSingle(first);
        return a + (Vector.ConvertToSingle(second) - a) * weight;
    }

    /// <summary>
    /// For each output position, the two source positions it reads (as offsets: index times
    /// <paramref name="stride"/>) and the second one's weight: the centre of output pixel
    /// <c>i</c> falls at <c>(i + 0.5) * n / size - 0.5</c> in source pixels, clamped at the edges.
    /// </summary>
    static (int[] First, int[] Second, float[] Weight) Taps(int n, int size, int stride)
    {
        var first = new int[size];
        var second = new int[size];
        var weight = new float[size];
        var scale = (float)n / size;
        for (var i = 0; i < size; i++)
        {
            var position = (i + 0.5f) * scale - 0.5f;
            var floor = (int)MathF.Floor(position);
            first[i] = Math.Clamp(floor, 0, n - 1) * stride;
            second[i] = Math.Clamp(floor + 1, 0, n - 1) * stride;
            weight[i] = position - floor;
        }
        return (first, second, weight);
    }
}
