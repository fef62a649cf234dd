using System.Globalization;
using HappySad.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Storage;

/// <summary>What a reconciliation repaired.</summary>
public sealed record ReconcileReport(IReadOnlyList<string> OrphanFilesMoved, IReadOnlyList<string> RowsWithoutFilesRemoved);

/// <summary>
/// Makes files and rows agree after a crash or a hand edit: files no row knows are moved to
/// <c>lost+found/</c> (never deleted), rows whose file is gone are removed, and both are logged.
/// </summary>
public sealed class StorageReconciler(IDbContextFactory<HappySadDbContext> contexts, StoragePaths paths, TimeProvider clock, ILogger<StorageReconciler> logger)
{
    public async Task<ReconcileReport> ReconcileAsync(CancellationToken cancellationToken = default)
    {
        var moved = new List<string>();
        var removed = new List<string>();
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var dataSetIds = await context.DataSets.Select(d => d.Id).ToListAsync(cancellationToken);
            var stamp = clock.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);

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
                foreach (var file in FilesToAccount(root))
                {
                    if (expected.Contains(file))
                        continue;
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
        }
        if (moved.Count + removed.Count > 0)
            logger.LogWarning("Storage repaired: {Moved} orphan files moved to {LostAndFound}, {Removed} rows without files removed", moved.Count, paths.LostAndFound, removed.Count);
        return new ReconcileReport(moved, removed);
    }

    /// <summary>Photo files in class folders, the trash and unfinished uploads; thumbnails are a cache and not counted.</summary>
    static List<string> FilesToAccount(string root)
    {
        if (!Directory.Exists(root))
            return [];
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        return Directory.EnumerateFiles(root, "*", options)
            .Where(file => !Path.GetRelativePath(root, file).StartsWith(".thumbs", StringComparison.Ordinal))
            .ToList();
    }
}
