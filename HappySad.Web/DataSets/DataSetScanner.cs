using System.Collections.Concurrent;
using HappySad.Training.Data;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.DataSets;

public enum FindingKind
{
    /// <summary>The stored file no longer decodes, or breaks a limit.</summary>
    Unusable,

    /// <summary>The same or nearly the same photo in both classes: it teaches the model both answers.</summary>
    InBothClasses,

    /// <summary>The same picture twice in one class (re-sized or re-compressed).</summary>
    NearDuplicate,

    /// <summary>The original name's extension names another format. Informational: the file is fine.</summary>
    LyingExtension,
}

/// <summary>One thing a scan found about one photo; <see cref="OtherPhotoId"/> names its twin for duplicates.</summary>
public sealed record ScanFinding(Photo Photo, FindingKind Kind, string Reason, int? OtherPhotoId = null);

/// <summary>
/// The notebook's clean-up and more, over a stored data set: re-decodes every photo, and compares
/// perceptual hashes to find near-duplicates and, worst, the same picture in both classes.
/// Byte-identical files never get this far: an upload refuses them. Reading every photo again, a
/// scan also records the size and hash a photo has as it is read now, where its row says otherwise
/// (a photo uploaded before its EXIF orientation was applied kept its stored size and hash).
/// </summary>
public sealed class DataSetScanner(IDbContextFactory<HappySadDbContext> contexts, StoragePaths paths, IOptions<UploadLimits> limits)
{
    /// <summary>The last health worked out per data set, with the stamp of the photos it was worked out from.</summary>
    readonly ConcurrentDictionary<int, (string Stamp, DataHealth Health)> _health = new();

    public async Task<IReadOnlyList<ScanFinding>> ScanAsync(int dataSetId, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            if (!await context.DataSets.AnyAsync(d => d.Id == dataSetId, cancellationToken))
                throw new DataSetNotFoundException(dataSetId);
            var photos = await context.Photos.AsNoTracking().Where(p => p.DataSetId == dataSetId && p.TrashedAt == null)
                .OrderBy(p => p.Id).ToListAsync(cancellationToken);

            var findings = new List<ScanFinding>();
            var imageLimits = limits.Value.ForImages();
            var done = 0;
            var results = new Reading[photos.Count];
            await Parallel.ForAsync(0, photos.Count, new ParallelOptions { CancellationToken = cancellationToken }, (i, _) =>
            {
                results[i] = Read(paths.PhotoFile(photos[i]), imageLimits);
                progress?.Report((Interlocked.Increment(ref done), photos.Count));
                return ValueTask.CompletedTask;
            });

            // The scan's verdict is kept, so training leaves out what no longer decodes, and so is what
            // it read of a photo that decodes. A photo moved to the other class, trashed or deleted while
            // the scan read it was judged at a place it has left: its row keeps what it says, and the
            // photo is left out of what the scan reports.
            // A few hundred rows a transaction: after an upgrade every photo of a large data set may
            // need its row written, and one transaction would hold the database's write lock meanwhile.
            // Each row's update stands alone, so a scan cancelled part way keeps the chunks it wrote,
            // and the next scan writes the rest.
            var moved = new HashSet<int>();
            var recorded = 0;
            foreach (var chunk in Enumerable.Range(0, photos.Count).Where(i => !results[i].Agrees(photos[i])).Chunk(RowsPerTransaction))
            {
                await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
                foreach (var i in chunk)
                {
                    var (photo, reading) = (photos[i], results[i]);
                    var (status, reason) = Verdict(reading.Problem);
                    // What the scan could not read keeps the size and hash its row has.
                    var written = await context.Photos
                        .Where(p => p.Id == photo.Id && p.ClassName == photo.ClassName && p.TrashedAt == null)
                        .ExecuteUpdateAsync(
                            u =>
                            {
                                u.SetProperty(p => p.Status, status).SetProperty(p => p.RejectionReason, reason);
                                if (reading.Problem is null)
                                    u.SetProperty(p => p.Width, reading.Width).SetProperty(p => p.Height, reading.Height).SetProperty(p => p.PerceptualHash, reading.Hash);
                            },
                            cancellationToken);
                    if (written == 0)
                    {
                        moved.Add(photo.Id);
                        continue;
                    }
                    recorded++;
                    (photo.Status, photo.RejectionReason) = (status, reason);
                    if (reading.Problem is null)
                        (photo.Width, photo.Height, photo.PerceptualHash) = (reading.Width, reading.Height, reading.Hash);
                }
                await transaction.CommitAsync(cancellationToken);
                // This node's cached health may predate a hash written now (other nodes see it in the stamp below).
                if (recorded > 0)
                    _health.TryRemove(dataSetId, out _);
            }
            var here = (await context.Photos.Where(p => p.DataSetId == dataSetId && p.TrashedAt == null)
                    .Select(p => new { p.Id, p.ClassName }).ToListAsync(cancellationToken))
                .ToDictionary(p => p.Id, p => p.ClassName);
            moved.UnionWith(photos.Where(p => here.GetValueOrDefault(p.Id) != p.ClassName).Select(p => p.Id));

            for (var i = 0; i < photos.Count; i++)
            {
                var photo = photos[i];
                if (moved.Contains(photo.Id))
                    continue;
                if (results[i].Problem is { } problem)
                    findings.Add(new ScanFinding(photo, FindingKind.Unusable, problem));
                if (ImageSniffer.FromExtension(photo.OriginalName) is { } claimed && ImageDecoder.Describe(claimed) != photo.Format)
                    findings.Add(new ScanFinding(photo, FindingKind.LyingExtension, $"named {Path.GetExtension(photo.OriginalName)} but the content is {photo.Format}"));
            }

            foreach (var (first, second, distance) in PerceptualHash.NearPairs([.. photos.Where(p => !moved.Contains(p.Id))], p => unchecked((ulong)p.PerceptualHash)))
            {
                var how = distance == 0 ? "the same picture" : $"nearly the same picture ({distance} of 64 bits differ)";
                if (first.ClassName != second.ClassName)
                {
                    findings.Add(new ScanFinding(first, FindingKind.InBothClasses, $"{how} as {second.OriginalName} in {second.ClassName}", second.Id));
                    findings.Add(new ScanFinding(second, FindingKind.InBothClasses, $"{how} as {first.OriginalName} in {first.ClassName}", first.Id));
                }
                else
                {
                    // Keep the older photo; offer the newer copy for the trash.
                    findings.Add(new ScanFinding(second, FindingKind.NearDuplicate, $"{how} as {first.OriginalName}", first.Id));
                }
            }
            return [.. findings.OrderBy(f => f.Kind).ThenBy(f => f.Photo.Id)];
        }
    }

    /// <summary>
    /// The data set's <see cref="DataHealth"/> from what is stored (class, status and the hash each
    /// upload kept, or a scan recorded since), without decoding anything: cheap enough to show whenever a run is about to be launched.
    /// Photos a scan found unusable are left out, as a run leaves them out.
    /// </summary>
    public async Task<DataHealth> HealthAsync(int dataSetId, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var dataSet = await context.DataSets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == dataSetId, cancellationToken)
                ?? throw new DataSetNotFoundException(dataSetId);
            var usable = context.Photos.AsNoTracking().Where(p => p.DataSetId == dataSetId && p.TrashedAt == null && p.Status == PhotoStatus.Ok);
            // Grouping 50,000 hashes and loading their rows takes most of a second; the page asks on every
            // visit. Any upload, trash, restore, move or delete changes a class's count or id sums, and a
            // scan that records a photo's hash anew (on any node) its class's sum of the hashes modulo a
            // prime (unless two new hashes cancel out exactly), so an unchanged stamp means an unchanged
            // answer. The node that scans drops its cached health besides.
            var stamp = string.Join(';', (await usable
                    .GroupBy(p => p.ClassName)
                    .Select(g => new
                    {
                        ClassName = g.Key,
                        Count = g.Count(),
                        Sum = g.Sum(p => (long)p.Id),
                        Squares = g.Sum(p => (long)p.Id * p.Id),
                        // Modulo a prime, so every bit of the 64 counts, and under 2^24 a photo, so no sum overflows.
                        Hashes = g.Sum(p => p.PerceptualHash % HashStampPrime),
                    })
                    .ToListAsync(cancellationToken))
                .OrderBy(g => g.ClassName, StringComparer.Ordinal)
                .Select(g => $"{g.ClassName}:{g.Count}:{g.Sum}:{g.Squares}:{g.Hashes}")
                // A data set deleted and made again may get the same ids: its creation time tells them apart.
                .Prepend($"{dataSet.CreatedAt.UtcTicks}:{string.Join(',', dataSet.ClassNames)}"));
            if (_health.TryGetValue(dataSetId, out var known) && known.Stamp == stamp)
                return known.Health;
            var photos = await usable.ToListAsync(cancellationToken);
            var health = DataHealth.Of([.. photos.Where(p => dataSet.ClassNames.Contains(p.ClassName))], dataSet.ClassNames);
            _health[dataSetId] = (stamp, health);
            return health;
        }
    }

    static (PhotoStatus Status, string? Reason) Verdict(string? problem) =>
        problem is null ? (PhotoStatus.Ok, null) : (PhotoStatus.Rejected, problem);

    const int RowsPerTransaction = 500;

    /// <summary>2^24 - 3, a prime: the health's stamp sums photos' hashes modulo it.</summary>
    const long HashStampPrime = 16_777_213;

    /// <summary>What reading a stored photo found: why it cannot be used, or its size and perceptual hash as an upload records them.</summary>
    readonly record struct Reading(string? Problem, int Width, int Height, long Hash)
    {
        /// <summary>Whether <paramref name="photo"/>'s row already says all this.</summary>
        public bool Agrees(Photo photo) =>
            (photo.Status, photo.RejectionReason) == Verdict(Problem)
            && (Problem is not null || (photo.Width, photo.Height, photo.PerceptualHash) == (Width, Height, Hash));
    }

    static Reading Read(string path, ImageLimits limits)
    {
        if (!File.Exists(path))
            return new Reading("file is missing from disk", 0, 0, 0);
        // As an upload reads it, so the size and hash are the ones an upload of these bytes records.
        var inspection = PhotoImporter.Inspect(path, limits);
        return inspection.Rejection is { } rejection ? new Reading(rejection, 0, 0, 0) : new Reading(null, inspection.Width, inspection.Height, inspection.Hash);
    }
}
