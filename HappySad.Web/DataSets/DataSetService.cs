using HappySad.Training.Data;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.DataSets;

/// <summary>A data set with its counts: photos in use per class, in the trash, and their bytes.</summary>
public sealed record DataSetSummary(int Id, string Name, IReadOnlyList<string> ClassNames, IReadOnlyList<int> ClassCounts, int TrashCount, int RejectedCount, long TotalBytes, DateTimeOffset CreatedAt)
{
    public int PhotoCount => ClassCounts.Sum();

    /// <summary>Every stored photo, in use, unusable or in the trash: what deleting the data set loses.</summary>
    public int StoredPhotoCount => PhotoCount + RejectedCount + TrashCount;
}

public sealed record PhotoPage(IReadOnlyList<Photo> Photos, int Total);

/// <summary>
/// Data sets and the photos in them. Every change to a photo moves its file first and commits the
/// row second, and moves the file back when the commit fails.
/// </summary>
public sealed class DataSetService(IDbContextFactory<HappySadDbContext> contexts, StoragePaths paths, TimeProvider clock, ILogger<DataSetService> logger)
{
    public async Task<IReadOnlyList<DataSetSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var dataSets = await context.DataSets.AsNoTracking().OrderBy(d => d.Name).ToListAsync(cancellationToken);
            var counts = await CountAsync(context.Photos, cancellationToken);
            return [.. dataSets.Select(d => Summarise(d, counts.Where(c => c.DataSetId == d.Id)))];
        }
    }

    public async Task<DataSetSummary?> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var dataSet = await context.DataSets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
            if (dataSet is null)
                return null;
            var counts = await CountAsync(context.Photos.Where(p => p.DataSetId == id), cancellationToken);
            return Summarise(dataSet, counts);
        }
    }

    public async Task<DataSetSummary> CreateAsync(string name, string firstClass = "happy", string secondClass = "sad", CancellationToken cancellationToken = default)
    {
        name = ValidName(name);
        var classNames = ValidClassNames(firstClass, secondClass);
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            if (await context.DataSets.AnyAsync(d => d.Name == name, cancellationToken))
                throw new DataSetException($"a data set named '{name}' already exists");
            var dataSet = new DataSet { Name = name, ClassNames = classNames, CreatedAt = clock.GetUtcNow() };
            context.DataSets.Add(dataSet);
            await context.SaveChangesAsync(cancellationToken);
            foreach (var className in classNames)
                Directory.CreateDirectory(paths.ClassFolder(dataSet.Id, className));
            logger.LogInformation("Created data set {DataSetId} {Name} with classes {Classes}", dataSet.Id, name, classNames);
            return Summarise(dataSet, []);
        }
    }

    public async Task RenameAsync(int id, string name, CancellationToken cancellationToken = default)
    {
        name = ValidName(name);
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var dataSet = await context.DataSets.FindAsync([id], cancellationToken) ?? throw new DataSetNotFoundException(id);
            if (await context.DataSets.AnyAsync(d => d.Name == name && d.Id != id, cancellationToken))
                throw new DataSetException($"a data set named '{name}' already exists");
            dataSet.Name = name;
            await context.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>Deletes the data set, its rows and its folder for good; the page asks first, naming the photo count.</summary>
    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var deleted = await context.DataSets.Where(d => d.Id == id).ExecuteDeleteAsync(cancellationToken);
            if (deleted == 0)
                throw new DataSetNotFoundException(id);
        }
        // Rows first: a folder left behind by a failure here is moved to lost+found at the next start.
        // On the thread pool: a page that asked keeps its circuit while a large folder goes.
        var folder = paths.DataSet(id);
        await Task.Run(() =>
        {
            try
            {
                if (Directory.Exists(folder))
                    Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(e, "Data set {DataSetId} is deleted, but not all of its folder {Folder}: what is left goes to lost+found at the next start", id, folder);
            }
        }, CancellationToken.None);
        logger.LogInformation("Deleted data set {DataSetId}", id);
    }

    public async Task<PhotoPage> PageAsync(int dataSetId, string? className, bool trashed, int page, int pageSize, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var query = context.Photos.AsNoTracking().Where(p => p.DataSetId == dataSetId && (p.TrashedAt != null) == trashed);
            if (className is not null)
                query = query.Where(p => p.ClassName == className);
            var total = await query.CountAsync(cancellationToken);
            var photos = await query.OrderByDescending(p => p.Id).Skip(Math.Max(0, page) * pageSize).Take(pageSize)
                .ToListAsync(cancellationToken);
            return new PhotoPage(photos, total);
        }
    }

    public async Task<Photo?> GetPhotoAsync(int photoId, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
            return await context.Photos.AsNoTracking().FirstOrDefaultAsync(p => p.Id == photoId, cancellationToken);
    }

    public Task MoveToClassAsync(int photoId, string className, CancellationToken cancellationToken = default) =>
        RelocateAsync([photoId], (photo, dataSet) =>
        {
            var target = dataSet.ClassNames.FirstOrDefault(c => c == className)
                ?? throw new DataSetException($"'{className}' is not a class of this data set");
            photo.ClassName = target;
        }, cancellationToken);

    /// <summary>Moves photos into the data set's trash; returns how many moved.</summary>
    public Task<int> TrashAsync(IReadOnlyCollection<int> photoIds, CancellationToken cancellationToken = default) =>
        RelocateAsync(photoIds, (photo, _) => photo.TrashedAt ??= clock.GetUtcNow(), cancellationToken);

    public Task<int> RestoreAsync(IReadOnlyCollection<int> photoIds, CancellationToken cancellationToken = default) =>
        RelocateAsync(photoIds, (photo, _) => photo.TrashedAt = null, cancellationToken);

    /// <summary>Deletes every trashed photo of a data set for good; returns how many.</summary>
    public async Task<int> EmptyTrashAsync(int dataSetId, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var trashed = await context.Photos.Where(p => p.DataSetId == dataSetId && p.TrashedAt != null).ToListAsync(cancellationToken);
            // Deleted only while still in the trash: a photo restored since it was read keeps its row (and so its file).
            var ids = trashed.Select(p => p.Id).ToList();
            var deleted = await context.Photos.Where(p => ids.Contains(p.Id) && p.TrashedAt != null).ExecuteDeleteAsync(cancellationToken);
            if (deleted != trashed.Count)
            {
                var restored = await context.Photos.Where(p => ids.Contains(p.Id)).Select(p => p.Id).ToListAsync(cancellationToken);
                trashed = [.. trashed.Where(p => !restored.Contains(p.Id))];
            }
            // Rows are gone; a file that fails to delete here is an orphan the next start moves to lost+found.
            // On the thread pool, as above.
            await Task.Run(() =>
            {
                foreach (var photo in trashed)
                {
                    foreach (var file in (string[])[paths.PhotoFile(photo), paths.ThumbnailFile(photo), paths.UnversionedThumbnailFile(photo)])
                    {
                        try
                        {
                            if (File.Exists(file))
                                File.Delete(file);
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            logger.LogWarning(e, "Photo {PhotoId} is deleted, but not its file {File}: it goes to lost+found at the next start", photo.Id, file);
                        }
                    }
                }
            }, CancellationToken.None);
            logger.LogInformation("Emptied the trash of data set {DataSetId}: {Count} photos deleted", dataSetId, trashed.Count);
            return trashed.Count;
        }
    }

    /// <summary>Applies a change of class or trash state to each photo, moving its file before the row commits.</summary>
    async Task<int> RelocateAsync(IReadOnlyCollection<int> photoIds, Action<Photo, DataSet> change, CancellationToken cancellationToken)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var photos = await context.Photos.Include(p => p.DataSet).Where(p => photoIds.Contains(p.Id)).ToListAsync(cancellationToken);
            if (photos.Count == 0 && photoIds.Count > 0)
                throw new PhotoNotFoundException(photoIds.First());

            var moved = new List<(string From, string To)>();
            try
            {
                foreach (var photo in photos)
                {
                    var from = paths.PhotoFile(photo);
                    change(photo, photo.DataSet!);
                    var to = paths.PhotoFile(photo);
                    if (from == to)
                        continue;
                    Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                    File.Move(from, to, overwrite: false);
                    moved.Add((from, to));
                }
                await context.SaveChangesAsync(cancellationToken);
                return moved.Count;
            }
            catch
            {
                foreach (var (from, to) in Enumerable.Reverse(moved))
                    File.Move(to, from, overwrite: false);
                throw;
            }
        }
    }

    /// <summary>Photos and bytes per data set, class, trash state and status, counted by the database.</summary>
    static Task<List<PhotoCount>> CountAsync(IQueryable<Photo> photos, CancellationToken cancellationToken) =>
        photos.AsNoTracking()
            .GroupBy(p => new { p.DataSetId, p.ClassName, Trashed = p.TrashedAt != null, p.Status })
            .Select(g => new PhotoCount(g.Key.DataSetId, g.Key.ClassName, g.Key.Trashed, g.Key.Status, g.Count(), g.Sum(p => p.ByteSize)))
            .ToListAsync(cancellationToken);

    static DataSetSummary Summarise(DataSet dataSet, IEnumerable<PhotoCount> counts)
    {
        var list = counts.ToList();
        var live = list.Where(c => !c.Trashed).ToList();
        return new DataSetSummary(
            dataSet.Id,
            dataSet.Name,
            dataSet.ClassNames,
            [.. dataSet.ClassNames.Select(name => live.Where(c => c.ClassName == name && c.Status == PhotoStatus.Ok).Sum(c => c.Count))],
            list.Where(c => c.Trashed).Sum(c => c.Count),
            live.Where(c => c.Status == PhotoStatus.Rejected).Sum(c => c.Count),
            list.Sum(c => c.Bytes),
            dataSet.CreatedAt);
    }

    static string ValidName(string name)
    {
        name = DisplayNames.Clean(name);
        if (name.Length is 0 or > 100)
            throw new DataSetException("a data set needs a name of 1 to 100 characters");
        return name;
    }

    /// <summary>
    /// The one rule for class names (<see cref="ClassNames.IsValid"/>), whoever gives them (the dashboard's
    /// dialog, <c>import</c>'s folders): kept composed, two that would read as one refused, ordered
    /// ordinally, as the model orders labels.
    /// </summary>
    internal static List<string> ValidClassNames(string first, string second)
    {
        var names = new[] { ClassNames.Composed((first ?? "").Trim()), ClassNames.Composed((second ?? "").Trim()) };
        foreach (var name in names)
        {
            if (!ClassNames.IsValid(name))
                throw new DataSetException($"class name '{name}' must be 1 to {ClassNames.MaxLength} letters (of any script), digits, '-' or '_', starting with a letter or digit");
        }
        if (ClassNames.LookAlike(names[0], names[1]))
            throw new DataSetException("the two classes need different names");
        return [.. names.Order(StringComparer.Ordinal)];
    }

    sealed record PhotoCount(int DataSetId, string ClassName, bool Trashed, PhotoStatus Status, int Count, long Bytes);
}

public sealed class PhotoNotFoundException(int id) : Exception($"photo {id} does not exist")
{
    public int Id { get; } = id;
}
