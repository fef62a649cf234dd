namespace HappySad.Training.Data;

/// <summary>
/// Decoded, resized images as bytes (HWC RGB, <c>Size x Size</c>, or <see cref="Views"/> such
/// squares stacked vertically) with their labels: what lets every epoch reuse one decode. The bytes
/// live in memory (256x256 costs 192 KB an image, so the 301 seed photos take 58 MB) or, for a run,
/// in a <see cref="PixelCache"/> file on disk that is read a batch at a time, so memory does not grow
/// with the data set.
/// </summary>
public sealed class ImageSet
{
    readonly PixelStore _store;
    readonly int[] _records;
    readonly int[] _labels;
    readonly string[] _paths;
    readonly int[] _groups;
    readonly Contents? _contents;

    /// <summary>How the images were prepared, and each one's content hash: what their pixels are made from.</summary>
    sealed record Contents(string Preparation, string[] Hashes);

    ImageSet(IReadOnlyList<string> classNames, PixelStore store, int[] records, int[] labels, string[] paths, int size, int views, int[]? groups = null, Contents? contents = null)
    {
        ClassNames = classNames;
        _store = store;
        _records = records;
        _labels = labels;
        _paths = paths;
        _groups = groups ?? [.. Enumerable.Range(0, labels.Length)];
        _contents = contents;
        Size = size;
        Views = views;
    }

    public IReadOnlyList<string> ClassNames { get; }
    public int Size { get; }

    /// <summary>Square views per image, stacked top to bottom: 1, or 2 for a face crop above the whole photo.</summary>
    public int Views { get; }

    /// <summary>Bytes of one image: <c>Views x Size x Size x 3</c>.</summary>
    public int ImageBytes => Views * Size * Size * 3;
    public int Count => _labels.Length;
    public IReadOnlyList<int> Labels => _labels;
    public IReadOnlyList<string> Paths => _paths;

    /// <summary>
    /// A group id per image: images that are the same picture (<see cref="NearDuplicates"/>) share one,
    /// and a split keeps each group whole. Until <see cref="WithGroups"/>, every image is its own group.
    /// </summary>
    public IReadOnlyList<int> Groups => _groups;

    /// <summary>HWC RGB bytes of one image (its views one after another); read from disk, as a new array, when the set lives in a cache file.</summary>
    public ReadOnlySpan<byte> Pixels(int index) => _store.Pixels(_records[index]);

    /// <summary>Copies one image's bytes into <paramref name="destination"/> (<see cref="ImageBytes"/> long) without allocating.</summary>
    public void CopyPixels(int index, Span<byte> destination) => _store.Read(_records[index], destination);

    /// <summary>
    /// What identifies these pixels without reading them, when it is known (images from a cache file:
    /// how they were prepared, and each one's content hash, in order); null for images in memory,
    /// whose bytes are their identity. The same photos give the same key whichever cache file holds
    /// them, so a run resumed from a cache built again over a list without the photos its first
    /// attempt could not read still matches its checkpoint.
    /// </summary>
    public string? ContentKey => _contents is { } contents
        ? $"{contents.Preparation}:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', contents.Hashes))))}"
        : null;

    public int CountOf(int label) => _labels.Count(l => l == label);

    public static ImageSet FromDecoded(IReadOnlyList<string> classNames, IReadOnlyList<DecodedImage> images, IReadOnlyList<int> labels, IReadOnlyList<string> paths, int size)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(paths);
        if (images.Count != labels.Count || images.Count != paths.Count)
            throw new ArgumentException("images, labels and paths must have the same length");
        if (images.Any(image => image.Size != size))
            throw new ArgumentException($"every image must be {size}x{size}");
        var views = images.Count > 0 ? images[0].Views : 1;
        if (images.Any(image => image.Views != views || image.Rgb.Length != views * size * size * 3))
            throw new ArgumentException($"every image must hold {views} view(s) of {size}x{size} RGB");
        return new ImageSet(classNames, new MemoryPixels([.. images.Select(i => i.Rgb)]), [.. Enumerable.Range(0, images.Count)], [.. labels], [.. paths], size, views);
    }

    /// <summary>Images whose bytes are <paramref name="records"/> of a cache file, read as they are used.</summary>
    /// <param name="preparation">Names how the file's images were prepared (<see cref="PixelCache.PreparationKey"/>).</param>
    /// <param name="contentHashes">Each image's source content hash, in the order of <paramref name="records"/>.</param>
    internal static ImageSet FromCache(IReadOnlyList<string> classNames, PixelCacheFile file, IReadOnlyList<int> records, IReadOnlyList<int> labels, IReadOnlyList<string> paths, string preparation, IReadOnlyList<string> contentHashes) =>
        new(classNames, file, [.. records], [.. labels], [.. paths], file.Size, file.Views, contents: new Contents(preparation, [.. contentHashes]));

    /// <summary>
    /// The same images relabelled for another class order, matching classes by name whatever their
    /// case (as an import into a data set matches them): how a folder whose classes sort or are
    /// written differently is evaluated against a model's classes.
    /// </summary>
    public ImageSet InClassOrder(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.SequenceEqual(ClassNames, StringComparer.Ordinal))
            return this;
        var unknown = ClassNames.Where(name => !classNames.Contains(name, Data.ClassNames.Comparer)).ToList();
        if (unknown.Count > 0)
            throw new DataSetException($"class folder(s) {string.Join(", ", unknown)} are not classes of the model ({string.Join(", ", classNames)})");
        var order = classNames.ToList();
        var map = ClassNames.Select(name => order.FindIndex(c => Data.ClassNames.Comparer.Equals(c, name))).ToArray();
        if (map.Distinct().Count() != map.Length)
            throw new DataSetException($"class folders {string.Join(", ", ClassNames)} name the same class of the model ({string.Join(", ", classNames)})");
        return new ImageSet(classNames, _store, _records, [.. _labels.Select(l => map[l])], _paths, Size, Views, _groups, _contents);
    }

    /// <summary>The same images with their near-duplicate groups, one id per image.</summary>
    public ImageSet WithGroups(IReadOnlyList<int> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count != Count)
            throw new ArgumentException($"{groups.Count} group ids for {Count} images");
        return new ImageSet(ClassNames, _store, _records, _labels, _paths, Size, Views, [.. groups], _contents);
    }

    /// <summary>A view of some of the images, sharing their pixels.</summary>
    public ImageSet Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var contents = _contents is { } all ? all with { Hashes = [.. indices.Select(i => all.Hashes[i])] } : null;
        return new ImageSet(ClassNames, _store, [.. indices.Select(i => _records[i])], [.. indices.Select(i => _labels[i])], [.. indices.Select(i => _paths[i])], Size, Views, [.. indices.Select(i => _groups[i])], contents);
    }
}
