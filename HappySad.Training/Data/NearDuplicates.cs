namespace HappySad.Training.Data;

/// <summary>How many near-duplicate groups a set of photos holds, how many photos are in them, and how many mix both classes.</summary>
public sealed record NearDuplicateSummary(int Groups, int Photos, int Conflicts)
{
    public static readonly NearDuplicateSummary None = new(0, 0, 0);

    /// <summary>Counts the groups of more than one photo in <paramref name="groups"/> (a group id per photo), and those whose photos carry different labels.</summary>
    public static NearDuplicateSummary Of(IReadOnlyList<int> labels, IReadOnlyList<int> groups)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(groups);
        var shared = Enumerable.Range(0, groups.Count).GroupBy(i => groups[i]).Where(g => g.Count() > 1).ToList();
        return new NearDuplicateSummary(shared.Count, shared.Sum(g => g.Count()), shared.Count(g => g.Select(i => labels[i]).Distinct().Count() > 1));
    }
}

/// <summary>
/// Groups photos that are the same picture, by the scan's rule (<see cref="PerceptualHash.NearDuplicateDistance"/>):
/// photos a few hash bits apart are joined, and so are their own near twins, so a chain of
/// re-compressions ends up in one group. A split that keeps each group whole cannot test a model on
/// a photo it trained on.
/// </summary>
public static class NearDuplicates
{
    /// <summary>The size uploads decode at to hash a photo; the same size here gives the same hash.</summary>
    public const int HashSize = 64;

    /// <summary>
    /// A group id per photo: the index of the first photo of its group, so a photo with no twin is
    /// its own group. A photo without a hash (null) is always alone.
    /// </summary>
    public static int[] Groups(IReadOnlyList<ulong?> hashes, int maxDistance = PerceptualHash.NearDuplicateDistance)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        var parent = Enumerable.Range(0, hashes.Count).ToArray();
        var hashed = Enumerable.Range(0, hashes.Count).Where(i => hashes[i] is not null).ToList();
        foreach (var (first, second, _) in PerceptualHash.NearPairs(hashed, i => hashes[i]!.Value, maxDistance))
        {
            var (a, b) = (Root(parent, first), Root(parent, second));
            // The smaller index becomes the root, so a group's id is its first photo.
            if (a != b)
                parent[Math.Max(a, b)] = Math.Min(a, b);
        }
        return [.. Enumerable.Range(0, parent.Length).Select(i => Root(parent, i))];
    }

    /// <summary>
    /// The scan's hash of each file (a 64x64 decode of the whole photo, as an upload stores it), in
    /// parallel; null for a file that no longer decodes. For folders, whose photos have no stored hash.
    /// </summary>
    public static ulong?[] HashFiles(IReadOnlyList<string> paths, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var hashes = new ulong?[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            try
            {
                hashes[i] = PerceptualHash.Compute(ImageDecoder.Decode(paths[i], HashSize, limits));
            }
            catch (Exception e) when (e is ImageRejectedException or IOException)
            {
                hashes[i] = null;
            }
        });
        return hashes;
    }

    /// <summary><paramref name="images"/> with the groups of their files' hashes (<see cref="HashFiles"/>).</summary>
    public static ImageSet Grouped(ImageSet images, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        return images.WithGroups(Groups(HashFiles(images.Paths, limits, cancellationToken)));
    }

    static int Root(int[] parent, int i)
    {
        while (parent[i] != i)
            i = parent[i] = parent[parent[i]];
        return i;
    }
}
