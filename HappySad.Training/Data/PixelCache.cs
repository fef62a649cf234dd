using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using HappySad.Training.Faces;
using Microsoft.Win32.SafeHandles;

namespace HappySad.Training.Data;

/// <summary>
/// Decoded photos on disk, one file per (photos, preparation): a 4 KB header, then one fixed-size
/// record of <c>Views x Size x Size x 3</c> bytes per photo in the order given, then a small JSON
/// list saying which photos were refused and why, their formats and their face boxes. The file is
/// named by its key, a hash of every photo's content hash and of how photos are prepared, so a later
/// run on the same photos reuses it and a run on anything else can never read it. It is written
/// under a temporary name and renamed when whole; on opening, its length, header, key and list
/// checksum are checked, and a file that fails any of them (truncated, foreign, an older format) is
/// built again, never read.
/// </summary>
public static class PixelCache
{
    /// <summary>Finished cache files end in this; files being built end in <see cref="BuildingExtension"/>.</summary>
    public const string Extension = ".pixels";
    public const string BuildingExtension = ".building";

    /// <summary>
    /// Part of every key: bumped whenever decoding or preparing could give other bytes for the same
    /// file (a decoder change, a new crop), so caches made before are never reused.
    /// </summary>
    const int PixelsVersion = 3; // 3: photos turned upright as their EXIF orientation says

    /// <summary>
    /// The photos of <paramref name="files"/> prepared as <paramref name="preparation"/> asks, from
    /// the cache in <paramref name="directory"/> when one holds them, else decoded (in parallel,
    /// <paramref name="progress"/> counting files) into a new one there. The images read their bytes
    /// from the file as they are used: memory does not grow with the number of photos. A file
    /// without a content hash is hashed here. <paramref name="budgetBytes"/>, when given, is the
    /// most the directory may hold: least recently used caches beyond it are deleted.
    /// </summary>
    public static ImageFolderLoad Load(
        IReadOnlyList<LabeledFile> files,
        IReadOnlyList<string> classNames,
        ImagePreparation preparation,
        string directory,
        ImageLimits? limits = null,
        IProgress<int>? progress = null,
        long? budgetBytes = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(preparation);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var hashes = ContentHashes(files, cancellationToken);
        var key = KeyOf(hashes, preparation);
        var contents = new CacheContents(PreparationKey(preparation), hashes);
        var path = PathOf(directory, key);
        var imageBytes = preparation.Views * preparation.InputSize * preparation.InputSize * 3;

        string? rebuiltBecause = null;
        if (File.Exists(path))
        {
            var (opened, reason) = TryOpen(path, key, files.Count, imageBytes);
            if (opened is not null)
            {
                Touch(path);
                return Images(files, classNames, opened, contents, new PixelCacheUse(path, Reused: true, RebuiltBecause: null));
            }
            rebuiltBecause = reason;
        }

        var built = Build(files, preparation, key, path, imageBytes, limits, progress, cancellationToken);
        if (budgetBytes is { } budget)
            Evict(directory, budget, keep: path);
        return Images(files, classNames, built, contents, new PixelCacheUse(path, Reused: false, rebuiltBecause));
    }

    /// <summary>
    /// The key of <paramref name="contentHashes"/> (in order) prepared as <paramref name="preparation"/>
    /// asks. It names the system's JPEG decoder when that decodes (<see cref="TurboJpeg"/>): it gives
    /// Skia's pixels for well-formed files but not always for corrupt ones, so a cache is only read
    /// where it was made by the same decoder (keys made with Skia are unchanged).
    /// </summary>
    public static string KeyOf(IReadOnlyList<string> contentHashes, ImagePreparation preparation)
    {
        ArgumentNullException.ThrowIfNull(contentHashes);
        ArgumentNullException.ThrowIfNull(preparation);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{Preparing(preparation)}\n{contentHashes.Count}\n"));
        foreach (var content in contentHashes)
            hash.AppendData(Encoding.UTF8.GetBytes(content + "\n"));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Names how a photo's pixels are made from its bytes here: the cache's version, the JPEG decoder, the preparation.</summary>
    public static string PreparationKey(ImagePreparation preparation)
    {
        ArgumentNullException.ThrowIfNull(preparation);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Preparing(preparation))));
    }

    static string Preparing(ImagePreparation preparation)
    {
        var decoder = TurboJpeg.Available ? " " + TurboJpeg.Decoder : "";
        return $"pixels {PixelsVersion}{decoder}\n{JsonSerializer.Serialize(preparation)}";
    }

    public static string PathOf(string directory, string key) => Path.Combine(directory, key + Extension);

    static string[] ContentHashes(IReadOnlyList<LabeledFile> files, CancellationToken cancellationToken)
    {
        var hashes = new string[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            if (files[i].Sha256 is { } known)
            {
                hashes[i] = known;
                return;
            }
            try
            {
                using var stream = File.OpenRead(files[i].Path);
                hashes[i] = Convert.ToHexStringLower(SHA256.HashData(stream));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                hashes[i] = "missing " + files[i].Path;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // Refused with its reason when the cache is built.
                hashes[i] = "unreadable " + files[i].Path;
            }
        });
        return hashes;
    }

    /// <summary>How a cache's photos were prepared, and each listed photo's content hash.</summary>
    sealed record CacheContents(string Preparation, IReadOnlyList<string> Hashes);

    static ImageFolderLoad Images(IReadOnlyList<LabeledFile> files, IReadOnlyList<string> classNames, OpenedCache cache, CacheContents contents, PixelCacheUse use)
    {
        var records = new List<int>();
        var labels = new List<int>();
        var paths = new List<string>();
        var found = new List<PhotoFindings>();
        var rejected = new List<RejectedFile>();
        var mislabeled = new List<MislabeledFile>();
        for (var i = 0; i < files.Count; i++)
        {
            var entry = cache.Entries[i];
            var file = files[i];
            if (entry.Rejection is { } kind)
            {
                rejected.Add(new RejectedFile(file.Path, classNames[file.Label], kind, entry.Reason ?? kind.ToString()));
                continue;
            }
            records.Add(i);
            labels.Add(file.Label);
            paths.Add(file.Path);
            found.Add(entry.Found);
            if (ImageSniffer.FromExtension(file.Path) is { } claimed && claimed != entry.Format)
                mislabeled.Add(new MislabeledFile(file.Path, claimed, entry.Format));
        }
        var images = ImageSet.FromCache(classNames, cache.File, records, labels, paths, contents.Preparation, [.. records.Select(r => contents.Hashes[r])]);
        return new ImageFolderLoad(images, rejected, mislabeled)
        {
            FacesFound = cache.DetectsFaces ? found.Count(f => f.Face is not null) : null,
            Found = cache.DetectsFaces ? found : [],
            Cache = use,
        };
    }

    static OpenedCache Build(IReadOnlyList<LabeledFile> files, ImagePreparation preparation, string key, string path, int imageBytes, ImageLimits? limits, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var building = $"{path}.{Guid.NewGuid():N}{BuildingExtension}";
        var entries = new CachedEntry[files.Count];
        try
        {
            using (var handle = File.OpenHandle(building, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read))
            {
                var metadataOffset = PixelCacheHeader.Length + ((long)files.Count * imageBytes);
                RandomAccess.SetLength(handle, metadataOffset);
                var done = 0;
                Parallel.For(0, files.Count, (limits ?? ImageLimits.Default).Gate.LoopOptions(cancellationToken), i =>
                {
                    entries[i] = Decode(files[i].Path, preparation, limits, out var rgb);
                    if (rgb is not null)
                        RandomAccess.Write(handle, rgb, PixelCacheHeader.Length + ((long)i * imageBytes));
                    progress?.Report(Interlocked.Increment(ref done));
                });

                var metadata = JsonSerializer.SerializeToUtf8Bytes(new CachedList(preparation.DetectsFaces, entries));
                RandomAccess.Write(handle, metadata, metadataOffset);
                var header = new PixelCacheHeader(key, files.Count, imageBytes, preparation.InputSize, preparation.Views, metadata.Length, SHA256.HashData(metadata));
                RandomAccess.Write(handle, header.ToBytes(), 0);
                RandomAccess.FlushToDisk(handle);
            }

            // A photo that was missing may be back for the next run: such a build serves this run only.
            if (entries.Any(e => e.Rejection == RejectionKind.Missing))
            {
                var (once, _) = TryOpen(building, key, files.Count, imageBytes);
                return once ?? throw new IOException($"the pixel cache {building} just written cannot be read back");
            }
            File.Move(building, path, overwrite: true);
            var (opened, reason) = TryOpen(path, key, files.Count, imageBytes);
            return opened ?? throw new IOException($"the pixel cache {path} just written cannot be read back: {reason}");
        }
        finally
        {
            TryDelete(building); // gone already when it was renamed; else this run's open handle keeps it readable
        }
    }

    static CachedEntry Decode(string path, ImagePreparation preparation, ImageLimits? limits, out byte[]? rgb)
    {
        rgb = null;
        try
        {
            var image = preparation.Prepare(path, limits);
            rgb = image.Rgb;
            return new CachedEntry(null, null, image.Format, image.Found.Face, image.Found.RaisedHands);
        }
        catch (ImageRejectedException e)
        {
            return new CachedEntry(e.Kind, e.Message, ImageFormat.Unknown, null);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new CachedEntry(RejectionKind.Missing, "file no longer exists", ImageFormat.Unknown, null);
        }
    }

    /// <summary>The cache at <paramref name="path"/> if it is whole and is the one <paramref name="key"/> names; else null and why.</summary>
    static (OpenedCache? Cache, string? Reason) TryOpen(string path, string key, int count, int imageBytes)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"it cannot be opened ({e.Message})");
        }

        var keep = false;
        try
        {
            var length = RandomAccess.GetLength(handle);
            if (length < PixelCacheHeader.Length)
                return (null, $"it is truncated ({length} bytes)");
            var headerBytes = new byte[PixelCacheHeader.Length];
            RandomAccess.Read(handle, headerBytes, 0);
            if (PixelCacheHeader.TryRead(headerBytes) is not { } header)
                return (null, "it is not a pixel cache of this version");
            if (header.Key != key)
                return (null, "it holds other photos (its key differs)");
            if (header.Count != count || header.ImageBytes != imageBytes)
                return (null, $"it holds {header.Count} records of {header.ImageBytes} bytes, not {count} of {imageBytes}");
            var metadataOffset = PixelCacheHeader.Length + ((long)count * imageBytes);
            if (length != metadataOffset + header.MetadataLength)
                return (null, $"it is {length} bytes long, not {metadataOffset + header.MetadataLength} (truncated or overwritten)");
            var metadata = new byte[header.MetadataLength];
            if (RandomAccess.Read(handle, metadata, metadataOffset) != metadata.Length || !SHA256.HashData(metadata).AsSpan().SequenceEqual(header.MetadataSha256))
                return (null, "its list of photos does not match its checksum");
            var list = JsonSerializer.Deserialize<CachedList>(metadata);
            if (list is null || list.Entries.Count != count)
                return (null, "its list of photos is incomplete");
            keep = true;
            return (new OpenedCache(PixelCacheFile.Open(handle, header), list.Entries, list.DetectsFaces), null);
        }
        catch (JsonException)
        {
            return (null, "its list of photos cannot be read");
        }
        finally
        {
            if (!keep)
                handle.Dispose();
        }
    }

    /// <summary>Marks a cache as just used, for <see cref="Evict"/>.</summary>
    static void Touch(string path)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only cache is still a cache; it merely ages.
        }
    }

    /// <summary>
    /// Deletes the least recently used caches until the directory holds at most <paramref name="budgetBytes"/>
    /// (never <paramref name="keep"/>), and builds abandoned over a day ago. A run reading a deleted
    /// cache goes on reading it: its handle keeps the data until it closes.
    /// </summary>
    public static void Evict(string directory, long budgetBytes, string? keep = null)
    {
        if (!Directory.Exists(directory))
            return;
        var abandoned = DateTime.UtcNow.AddDays(-1);
        foreach (var stale in new DirectoryInfo(directory).EnumerateFiles("*" + BuildingExtension).Where(f => f.LastWriteTimeUtc < abandoned))
            TryDelete(stale.FullName);
        var caches = new DirectoryInfo(directory).EnumerateFiles("*" + Extension).OrderByDescending(f => f.LastWriteTimeUtc).ToList();
        long total = 0;
        foreach (var cache in caches)
        {
            total += cache.Length;
            if (total > budgetBytes && !string.Equals(cache.FullName, keep, StringComparison.Ordinal))
            {
                TryDelete(cache.FullName);
                total -= cache.Length;
            }
        }
    }

    static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still open elsewhere (Windows): the next eviction takes it.
        }
    }

    sealed record OpenedCache(PixelCacheFile File, IReadOnlyList<CachedEntry> Entries, bool DetectsFaces);
}

/// <summary>How a load used the pixel cache: the file, whether it was there already, and why an existing one was not used.</summary>
public sealed record PixelCacheUse(string Path, bool Reused, string? RebuiltBecause);

/// <summary>One photo in a cache file: refused (why) or its format and what was found in it, as fields of their own (the file's metadata keeps this shape).</summary>
internal sealed record CachedEntry(RejectionKind? Rejection, string? Reason, ImageFormat Format, FaceBox? Face, bool RaisedHands = false)
{
    [JsonIgnore]
    public PhotoFindings Found => new(Face, RaisedHands);
}

internal sealed record CachedList(bool DetectsFaces, IReadOnlyList<CachedEntry> Entries);

/// <summary>The first <see cref="Length"/> bytes of a cache file.</summary>
internal sealed record PixelCacheHeader(string Key, int Count, int ImageBytes, int Size, int Views, int MetadataLength, byte[] MetadataSha256)
{
    public const int Length = 4096;
    const string Magic = "HappySad pixel cache";
    const int FormatVersion = 1;

    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        using var writer = new BinaryWriter(new MemoryStream(bytes), Encoding.UTF8);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(Key);
        writer.Write(Count);
        writer.Write(ImageBytes);
        writer.Write(Size);
        writer.Write(Views);
        writer.Write(MetadataLength);
        writer.Write(MetadataSha256);
        return bytes;
    }

    public static PixelCacheHeader? TryRead(byte[] bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            if (reader.ReadString() != Magic || reader.ReadInt32() != FormatVersion)
                return null;
            var header = new PixelCacheHeader(reader.ReadString(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadBytes(32));
            return header.Count >= 0 && header.ImageBytes > 0 && header.MetadataLength >= 0 && header.MetadataSha256.Length == 32 ? header : null;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            return null;
        }
    }
}
