using System.Numerics;

namespace HappySad.Training.Data;

/// <summary>
/// A 64-bit difference hash (dHash): the image shrunk to 9x8 grey cells, one bit per pair of
/// horizontal neighbours (is the left cell brighter?). Re-sizing, re-compressing or a small colour
/// shift keeps most bits, so photos a few bits apart are the same picture.
/// </summary>
public static class PerceptualHash
{
    /// <summary>Hashes at most this many bits apart are treated as the same photo.</summary>
    public const int NearDuplicateDistance = 6;

    public static ulong Compute(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Span<double> cells = stackalloc double[9 * 8];
        var size = image.Size;
        // Box-average each cell of a 9x8 grid over the decoded square.
        for (var cy = 0; cy < 8; cy++)
        {
            var (y0, y1) = (cy * size / 8, (cy + 1) * size / 8);
            for (var cx = 0; cx < 9; cx++)
            {
                var (x0, x1) = (cx * size / 9, (cx + 1) * size / 9);
                double sum = 0;
                for (var y = y0; y < y1; y++)
                {
                    for (var x = x0; x < x1; x++)
                        sum += (0.299 * image.R(x, y)) + (0.587 * image.G(x, y)) + (0.114 * image.B(x, y));
                }
                cells[(cy * 9) + cx] = sum / Math.Max(1, (y1 - y0) * (x1 - x0));
            }
        }

        ulong hash = 0;
        for (var cy = 0; cy < 8; cy++)
        {
            for (var cx = 0; cx < 8; cx++)
            {
                if (cells[(cy * 9) + cx] > cells[(cy * 9) + cx + 1])
                    hash |= 1UL << ((cy * 8) + cx);
            }
        }
        return hash;
    }

    public static int Distance(ulong a, ulong b) => BitOperations.PopCount(a ^ b);

    /// <summary>
    /// Every pair of items whose hashes are at most <paramref name="maxDistance"/> bits apart, each
    /// pair once with the earlier item first. Quadratic, which is a few milliseconds at 5,000 photos.
    /// </summary>
    public static IReadOnlyList<(T First, T Second, int Distance)> NearPairs<T>(IReadOnlyList<T> items, Func<T, ulong> hash, int maxDistance = NearDuplicateDistance)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(hash);
        var hashes = items.Select(hash).ToArray();
        var pairs = new List<(T, T, int)>();
        for (var i = 0; i < hashes.Length; i++)
        {
            for (var j = i + 1; j < hashes.Length; j++)
            {
                var distance = Distance(hashes[i], hashes[j]);
                if (distance <= maxDistance)
                    pairs.Add((items[i], items[j], distance));
            }
        }
        return pairs;
    }
}
