using System.Globalization;
using HappySad.Web.Data;
using HappySad.Web.Runs.Distributed;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Storage;

/// <summary>
/// What a reconciliation repaired, and the leftovers (files and folders) it deleted; or, with
/// <paramref name="Refused"/>, why it touched nothing.
/// </summary>
public sealed record ReconcileReport(IReadOnlyList<string> OrphanFilesMoved, IReadOnlyList<string> RowsWithoutFilesRemoved, IReadOnlyList<string> LeftoversRemoved, string? Refused = null)
{
    /// <summary>Photo files found in their data set's other class folder or trash (a move cut off before its row committed), put back where their rows say.</summary>
    public IReadOnlyList<string> FilesPutBack { get; init; } = [];
}

/// <summary>
/// Makes files and rows agree after a crash or a hand edit: a photo's file that stands in its data
/// set's other class folder or trash (a move or trash cut off after its file, before its row
/// committed) goes back where the row says, since what did not commit did not happen; other files no row knows are moved to <c>lost+found/</c> (never deleted), rows
/// whose file is gone are removed, and all of it is logged.
/// It also deletes what no one can want: spooled uploads a killed request left in <c>.incoming/</c>,
/// <c>.tmp</c> files of interrupted writes, the model files of runs that did not succeed (keeping a
/// checkpoint <see cref="Runs.RunRecovery"/> will go on from), and <c>lost+found/</c> folders older
/// than <see cref="StorageOptions.LostAndFoundRetentionDays"/>. Only the data directory's owner
/// (<see cref="DataDirectoryLock"/>) may run it: anyone else could be tidying away a file the owner
/// is writing. It touches nothing when the data directory and the database do not look like each
/// other's (<see cref="MismatchAsync"/>): a crash leaves a few files and rows astray, never all of them.
/// </summary>
public sealed class StorageReconciler(
    IDbContextFactory<HappySadDbContext> contexts,
    StoragePaths paths,
    DataDirectoryLock directoryLock,
    IOptions<StorageOptions> options,
    IOptions<WorkerOptions> workers,
    TimeProvider clock,
    ILogger<StorageReconciler> logger)
{
    /// <summary>How a <c>lost+found/</c> folder is named: the time its files were moved there.</summary>
    const string StampFormat = "yyyyMMdd-HHmmss";

    public async Task<ReconcileReport> ReconcileAsync(CancellationToken cancellationToken = default)
    {
        if (!directoryLock.IsHeld)
            throw new InvalidOperationException($"Only the data directory's owner may tidy it, and this process does not hold {directoryLock.LockFile}");
        var leftovers = new Leftovers();
        var moved = new List<string>();
        var removed = new List<string>();
        var putBack = new List<string>();
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var classesOf = await context.DataSets.ToDictionaryAsync(d => d.Id, d => d.ClassNames, cancellationToken);
            var dataSetIds = classesOf.Keys.ToList();
            var stamp = clock.GetUtcNow().ToString(StampFormat, CultureInfo.InvariantCulture);
            if (await MismatchAsync(context, dataSetIds, cancellationToken) is { } mismatch)
            {
                logger.LogError("Not tidying {DataDirectory}: {Mismatch}. Check the data directory (--data-dir, StorageOptions:DataDirectory, a mount that is not up) and the database (ConnectionStrings:HappySad)",
                    paths.Root, mismatch);
                return new ReconcileReport([], [], [], mismatch);
            }

            if (Directory.Exists(paths.DataSetsRoot))
            {
                foreach (var folder in Directory.EnumerateDirectories(paths.DataSetsRoot))
                {
                    if (int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && dataSetIds.Contains(id))
                        continue;
                    var target = Path.Combine(paths.LostAndFound, stamp, "datasets", Path.GetFileName(folder));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    Directory.Move(folder, target);
                    logger.LogWarning("Data set folder {Folder} has no data set in the database; moved to {Target}", folder, target);
                    moved.Add(folder);
                }
            }

            foreach (var id in dataSetIds)
            {
                var photos = await context.Photos.Where(p => p.DataSetId == id).ToListAsync(cancellationToken);
                var expected = new HashSet<string>(photos.Select(paths.PhotoFile), StringComparer.Ordinal);
                var root = paths.DataSet(id);
                // Before accounting: a spool or a temporary file is no one's photo, and lost+found would only keep it forever.
                if (Directory.Exists(paths.Incoming(id)))
                    foreach (var spooled in Directory.EnumerateFiles(paths.Incoming(id), "*", AllFiles))
                        leftovers.DeleteFile(spooled, "spooled uploads");
                DeleteTemporaryFiles(root, leftovers);
                var orphans = FilesToAccount(root).Where(file => !expected.Contains(file)).ToHashSet(StringComparer.Ordinal);
                // Stored names are content hashes, unique in a data set: a row without its file whose
                // name stands where a move or trash would have put it is that move, cut off.
                foreach (var photo in photos.Where(p => !File.Exists(paths.PhotoFile(p))))
                {
                    var found = classesOf[id].SelectMany(c => new[] { paths.PhotoFile(id, c, photo.StoredName, trashed: false), paths.PhotoFile(id, c, photo.StoredName, trashed: true) })
                        .FirstOrDefault(orphans.Contains);
                    if (found is null)
                        continue;
                    var home = paths.PhotoFile(photo);
                    Directory.CreateDirectory(Path.GetDirectoryName(home)!);
                    File.Move(found, home, overwrite: false);
                    logger.LogWarning("Photo {PhotoId} ({OriginalName}) of data set {DataSetId} was at {Found} (a move cut off before its row committed); put back at {Path}",
                        photo.Id, photo.OriginalName, id, found, home);
                    orphans.Remove(found);
                    putBack.Add(found);
                }
                foreach (var file in orphans)
                {
                    var target = Path.Combine(paths.LostAndFound, stamp, id.ToString(CultureInfo.InvariantCulture), Path.GetRelativePath(root, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Move(file, target, overwrite: false);
                    logger.LogWarning("File {File} has no row in the database; moved to {Target}", file, target);
                    moved.Add(file);
                }

                var missing = photos.Where(p => !File.Exists(paths.PhotoFile(p))).ToList();
                foreach (var photo in missing)
                {
                    logger.LogWarning("Photo {PhotoId} ({OriginalName}) of data set {DataSetId} has no file at {Path}; its row is removed",
                        photo.Id, photo.OriginalName, id, paths.PhotoFile(photo));
                    removed.Add(paths.PhotoFile(photo));
                }
                context.Photos.RemoveRange(missing);
            }
            await context.SaveChangesAsync(cancellationToken);
            await RemoveLeftoversOfRunsAsync(context, leftovers, cancellationToken);
        }
        DeleteTemporaryFiles(paths.ModelsRoot, leftovers);
        ExpireLostAndFound(leftovers);
        if (moved.Count + removed.Count + putBack.Count > 0)
            logger.LogWarning("Storage repaired: {PutBack} photo files put back where their rows say, {Moved} orphan files moved to {LostAndFound}, {Removed} rows without files removed",
                putBack.Count, moved.Count, paths.LostAndFound, removed.Count);
        if (leftovers.Removed.Count > 0)
            logger.LogWarning("Start-up clean-up deleted {Count} leftovers, {Bytes:N0} bytes: {Kinds}", leftovers.Removed.Count, leftovers.Bytes, leftovers.Kinds);
        return new ReconcileReport(moved, removed, leftovers.Removed) { FilesPutBack = putBack };
    }

    /// <summary>
    /// Why the data directory and the database cannot be each other's, or null when they can: the
    /// database has photos but not one of its data sets has a folder here, or this directory has data
    /// set folders of which the database knows none. That is another directory (a fresh one, a mount
    /// that is not up) or another database, not a crash, and tidying would take every photo row for
    /// lost, or move every photo to <c>lost+found/</c>.
    /// </summary>
    async Task<string?> MismatchAsync(HappySadDbContext context, List<int> dataSetIds, CancellationToken cancellationToken)
    {
        var folders = Directory.Exists(paths.DataSetsRoot)
            ? Directory.EnumerateDirectories(paths.DataSetsRoot)
                .Select(f => int.TryParse(Path.GetFileName(f), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : (int?)null)
                .OfType<int>().ToHashSet()
            : [];
        if (dataSetIds.Any(folders.Contains))
            return null;
        if (await context.Photos.AnyAsync(cancellationToken))
            return $"the database has photos in {dataSetIds.Count} data set(s), and not one of their folders is in {paths.DataSetsRoot}";
        return folders.Count > 0 ? $"{paths.DataSetsRoot} has {folders.Count} data set folder(s), and the database knows none of them" : null;
    }

    /// <summary>
    /// In each finished run's folder: <c>.tmp</c> files, and unless it succeeded its model and test
    /// images; its checkpoint too unless the run will go on from it. Runs still queued or running
    /// may be training in another process (a worker, <c>train --record</c>), so they are left alone;
    /// only a dashboard run the app trains itself is certainly dead when its owner starts.
    /// </summary>
    async Task RemoveLeftoversOfRunsAsync(HappySadDbContext context, Leftovers leftovers, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(paths.RunsRoot))
            return;
        var runs = await context.TrainingRuns.AsNoTracking()
            .Select(r => new { r.Id, r.Status, r.Source })
            .ToDictionaryAsync(r => r.Id, cancellationToken);
        var trainsHere = workers.Value.Mode == RunDispatchMode.InProcess;
        foreach (var folder in Directory.EnumerateDirectories(paths.RunsRoot))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || !runs.TryGetValue(id, out var run))
                continue;
            var cutOff = run.Status == RunStatus.Running && run.Source == RunSource.Dashboard && trainsHere;
            if (run.Status == RunStatus.Queued || (run.Status == RunStatus.Running && !cutOff))
                continue;
            DeleteTemporaryFiles(folder, leftovers);
            if (run.Status == RunStatus.Succeeded)
                continue;
            if (File.Exists(paths.RunModel(id)))
                leftovers.DeleteFile(paths.RunModel(id), "models of runs that did not succeed");
            var tests = Path.GetDirectoryName(paths.RunTestImage(id, 0))!;
            if (Directory.Exists(tests))
                leftovers.DeleteDirectory(tests, "test images of runs that did not succeed");
            // RunRecovery queues a cut-off dashboard run with a checkpoint again, to go on from it.
            var resumable = run.Source == RunSource.Dashboard && (cutOff || run.Status == RunStatus.Interrupted);
            if (!resumable && File.Exists(paths.RunCheckpoint(id)))
                leftovers.DeleteFile(paths.RunCheckpoint(id), "checkpoints of runs that will not go on");
        }
    }

    /// <summary>Stamp folders older than the retention; a folder whose name is not a stamp was put there by hand and is kept.</summary>
    void ExpireLostAndFound(Leftovers leftovers)
    {
        var days = options.Value.LostAndFoundRetentionDays;
        if (days <= 0 || !Directory.Exists(paths.LostAndFound))
            return;
        var oldest = clock.GetUtcNow().UtcDateTime.AddDays(-days);
        foreach (var folder in Directory.EnumerateDirectories(paths.LostAndFound))
        {
            if (DateTime.TryParseExact(Path.GetFileName(folder), StampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var stamped)
                && stamped < oldest)
                leftovers.DeleteDirectory(folder, $"lost+found folders older than {days} days");
        }
    }

    /// <summary>What an interrupted atomic write left: models, checkpoints, thumbnails and test images are written to <c>.tmp</c> names first.</summary>
    static void DeleteTemporaryFiles(string root, Leftovers leftovers)
    {
        if (!Directory.Exists(root))
            return;
        foreach (var file in Directory.EnumerateFiles(root, "*.tmp", AllFiles))
            leftovers.DeleteFile(file, "temporary files");
    }

    static readonly EnumerationOptions AllFiles = new() { RecurseSubdirectories = true, AttributesToSkip = 0 };

    /// <summary>Photo files in class folders, the trash and unfinished uploads; thumbnails are a cache and not counted.</summary>
    static List<string> FilesToAccount(string root)
    {
        if (!Directory.Exists(root))
            return [];
        return Directory.EnumerateFiles(root, "*", AllFiles)
            .Where(file => !Path.GetRelativePath(root, file).StartsWith(".thumbs", StringComparison.Ordinal))
            .ToList();
    }
}

/// <summary>What the start-up clean-up deleted, with the bytes it freed and a count per kind for the log.</summary>
sealed class Leftovers
{
    readonly Dictionary<string, int> _kinds = new(StringComparer.Ordinal);

    public List<string> Removed { get; } = [];
    public long Bytes { get; private set; }
    public string Kinds => string.Join(", ", _kinds.Select(k => $"{k.Value} {k.Key}"));

    public void DeleteFile(string file, string kind)
    {
        var bytes = new FileInfo(file).Length;
        File.Delete(file);
        Count(file, bytes, kind);
    }

    public void DeleteDirectory(string directory, string kind)
    {
        var bytes = new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        Directory.Delete(directory, recursive: true);
        Count(directory, bytes, kind);
    }

    void Count(string path, long bytes, string kind)
    {
        Removed.Add(path);
        Bytes += bytes;
        _kinds[kind] = _kinds.GetValueOrDefault(kind) + 1;
    }
}
