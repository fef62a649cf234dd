using System.Security.Cryptography;
using System.Text;
using HappySad.Training.Data;
using HappySad.Training.Pretrained;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Runs;

/// <summary>One image of a snapshot before decoding; a data set photo brings the perceptual hash its upload stored.</summary>
public sealed record SnapshotEntry(int? PhotoId, string FullPath, string RelativePath, string Name, int Label, string Sha256, long? PerceptualHash = null);

/// <summary>What a run trains on, listed as it starts: the run, its class names, the folder the images are in, and each image with its content hash.</summary>
/// <param name="Groups">For a resumed run, the near-duplicate group of each entry as its first attempt found them.</param>
public sealed record Snapshot(TrainingRun Run, IReadOnlyList<string> ClassNames, string Directory, IReadOnlyList<SnapshotEntry> Entries, IReadOnlyList<int>? Groups = null);

/// <summary>
/// Takes a run's snapshot when it starts (a data set's usable photos, or a command-line run's class
/// folders) and decodes it once into a pixel cache file, so from then on the run holds its own pixels,
/// whatever happens to the files, and memory does not grow with the number of photos. A later run on
/// the same photos, prepared the same way, reuses the file instead of decoding again.
/// A run resumed after a stop or a crash takes the snapshot its first attempt recorded, not a new one.
/// </summary>
public sealed class RunSnapshot(IDbContextFactory<HappySadDbContext> contexts, StoragePaths paths, IOptions<StorageOptions> options)
{
    /// <summary>Lists what run <paramref name="runId"/> trains on. <paramref name="folder"/> is the class-folder data of a command-line run.</summary>
    public async Task<Snapshot> TakeAsync(int runId, string? folder, CancellationToken cancellationToken)
    {
        TrainingRun run;
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
            run = await context.TrainingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, cancellationToken);

        if (run.Source == RunSource.CommandLine)
            return FromFolder(run, folder ?? throw new InvalidOperationException($"run {runId} trains on a folder, but no folder was given"), cancellationToken);
        return await RecordedAsync(run, cancellationToken) ?? await FromDataSetAsync(run, cancellationToken);
    }

    /// <summary>
    /// The snapshot a resumed run took on its first attempt: the photos its image rows name, in their
    /// order, wherever they are now (the trash included), with the near-duplicate groups it found, so
    /// it trains on exactly what it started with and splits it the same way. A photo deleted since is
    /// listed where it was: its pixels are in the run's pixel cache, and only when that cache is gone
    /// too does the run stop, saying the photos it started with are no longer all there.
    /// Null when the run has not recorded one yet.
    /// </summary>
    async Task<Snapshot?> RecordedAsync(TrainingRun run, CancellationToken cancellationToken)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var rows = await context.RunImages.AsNoTracking().Where(i => i.RunId == run.Id).OrderBy(i => i.Id).ToListAsync(cancellationToken);
            if (rows.Count == 0)
                return null;
            var photoIds = rows.Select(r => r.PhotoId).ToList();
            var photos = await context.Photos.AsNoTracking().Where(p => photoIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, cancellationToken);
            var dataSetId = run.DataSetId ?? photos.Values.FirstOrDefault()?.DataSetId
                ?? throw new DataSetException($"the run cannot go on: its data set '{run.DataName}' was deleted");
            var entries = new List<SnapshotEntry>(rows.Count);
            foreach (var row in rows)
            {
                entries.Add(row.PhotoId is { } photoId && photos.TryGetValue(photoId, out var photo) && photo.Sha256 == row.Sha256
                    ? new SnapshotEntry(photoId, paths.PhotoFile(photo), row.Path, row.Name, row.Label, row.Sha256, photo.PerceptualHash)
                    : new SnapshotEntry(null, Path.Combine(paths.DataSet(dataSetId), row.Path), row.Path, row.Name, row.Label, row.Sha256));
            }
            // A group is recorded as the position of its first photo, which is the id grouping gives it.
            var groups = rows.Select((row, i) => row.Group ?? i).ToList();
            return new Snapshot(run, run.ClassNames, paths.DataSet(dataSetId), entries, groups);
        }
    }

    /// <summary>
    /// Decodes (and face-crops, if the recipe asks) every image of <paramref name="snapshot"/> once, into
    /// the data directory's pixel cache (<see cref="StoragePaths.PixelCache"/>), or finds them there.
    /// <paramref name="progress"/> counts the photos decoded; nothing is reported when the cache held them.
    /// <paramref name="fetching"/> hears the download of any pretrained weights this machine lacks.
    /// </summary>
    public async Task<ImageFolderLoad> DecodeAsync(Snapshot snapshot, IProgress<int>? progress, CancellationToken cancellationToken, IProgress<DownloadProgress>? fetching = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var recipe = snapshot.Run.Recipe;
        var preparation = recipe.Preparation();
        // Fetched (once) without holding a thread.
        foreach (var package in recipe.PretrainedPackages())
            await PretrainedPackages.Cache(package).EnsureAsync(progress: fetching, cancellationToken: cancellationToken);
        var budget = options.Value.PixelCacheGigabytes is > 0 and var gigabytes ? (long)(gigabytes * 1024 * 1024 * 1024) : (long?)null;
        return await Task.Run(
            () => PixelCache.Load(
                [.. snapshot.Entries.Select(e => new LabeledFile(e.FullPath, e.Label, e.Sha256))],
                snapshot.ClassNames,
                preparation,
                paths.PixelCache,
                progress: progress,
                budgetBytes: budget,
                cancellationToken: cancellationToken),
            cancellationToken);
    }

    /// <summary>
    /// The decoded images with their near-duplicate groups (<see cref="NearDuplicates"/>), found as the
    /// data set's scan finds them: from the hashes the uploads stored (nothing decoded again, at any
    /// size of data set), or, for a folder, from hashing its files the same way.
    /// </summary>
    public static ImageSet Grouped(Snapshot snapshot, ImageSet images, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(images);
        // Every photo of a resumed run decoded again: the groups its first attempt split by.
        if (snapshot.Groups is { } recorded && recorded.Count == images.Count)
            return images.WithGroups(recorded);
        var stored = snapshot.Entries.Where(e => e.PerceptualHash is not null).ToDictionary(e => e.FullPath, e => unchecked((ulong)e.PerceptualHash!.Value), StringComparer.Ordinal);
        if (stored.Count < snapshot.Entries.Count)
            return NearDuplicates.Grouped(images, cancellationToken: cancellationToken);
        return images.WithGroups(NearDuplicates.Groups([.. images.Paths.Select(p => (ulong?)stored[p])]));
    }

    /// <summary>The hash two runs share exactly when they saw the same photos with the same labels, whatever their ids or order.</summary>
    internal static string Hash(IEnumerable<(string ClassName, string Sha256)> images)
    {
        var lines = images.Select(i => $"{i.ClassName}\t{i.Sha256}\n").Order(StringComparer.Ordinal);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(lines))));
    }

    async Task<Snapshot> FromDataSetAsync(TrainingRun run, CancellationToken cancellationToken)
    {
        if (run.DataSetId is not { } dataSetId)
            throw new DataSetException($"the data set '{run.DataName}' was deleted before the run started");
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var dataSet = await context.DataSets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == dataSetId, cancellationToken)
                ?? throw new DataSetException($"the data set '{run.DataName}' was deleted before the run started");
            var photos = await context.Photos.AsNoTracking()
                .Where(p => p.DataSetId == dataSetId && p.TrashedAt == null && p.Status == PhotoStatus.Ok)
                .OrderBy(p => p.Id)
                .Select(p => new { p.Id, p.ClassName, p.StoredName, p.OriginalName, p.Sha256, p.PerceptualHash })
                .ToListAsync(cancellationToken);
            var entries = photos
                .Where(p => dataSet.ClassNames.Contains(p.ClassName))
                .Select(p => new SnapshotEntry(
                    p.Id,
                    paths.PhotoFile(dataSetId, p.ClassName, p.StoredName, trashed: false),
                    $"{p.ClassName}/{p.StoredName}",
                    p.OriginalName,
                    dataSet.ClassNames.IndexOf(p.ClassName),
                    p.Sha256,
                    p.PerceptualHash))
                .ToList();
            return new Snapshot(run, dataSet.ClassNames, paths.DataSet(dataSetId), entries);
        }
    }

    static Snapshot FromFolder(TrainingRun run, string folder, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(folder);
        var imageFolder = ImageFolder.Open(root);
        var entries = new List<SnapshotEntry>(imageFolder.Files.Count);
        foreach (var file in imageFolder.Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string hash;
            try
            {
                using var stream = File.OpenRead(file.Path);
                hash = Convert.ToHexStringLower(SHA256.HashData(stream));
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // Refused with its reason when the snapshot is decoded.
                hash = $"unreadable {file.Path}";
            }
            entries.Add(new SnapshotEntry(null, file.Path, Path.GetRelativePath(root, file.Path).Replace('\\', '/'), Path.GetFileName(file.Path), file.Label, hash));
        }
        return new Snapshot(run, imageFolder.ClassNames, root, entries);
    }
}
