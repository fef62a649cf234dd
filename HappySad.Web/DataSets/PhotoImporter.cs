using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using HappySad.Training.Data;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.DataSets;

/// <summary>
/// Brings files into a data set. Each file streams to a temporary name under the data set's
/// <c>.incoming/</c> folder while it is hashed and counted, is checked by content, and is moved into
/// its class folder before its row commits; anything that fails removes what it wrote, so files and
/// rows never disagree. Nothing is ever written under a name the uploader chose.
/// </summary>
public sealed class PhotoImporter(IDbContextFactory<HappySadDbContext> contexts, StoragePaths paths, IOptions<UploadLimits> limits, TimeProvider clock, ILogger<PhotoImporter> logger)
{
    /// <summary>Decoding at this size is enough to validate a file and hash it perceptually (a scan reads it the same way).</summary>
    internal const int InspectSize = 64;

    readonly UploadLimits _limits = limits.Value;

    public static bool IsZip(string fileName) => fileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Imports one file. <paramref name="relativePath"/> may carry folders (a folder upload sends
    /// <c>sad/x.jpg</c>): a folder named like a class decides the class, else <paramref name="className"/> does.
    /// </summary>
    public async Task<UploadOutcome> ImportFileAsync(int dataSetId, string relativePath, Stream content, string? className, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var dataSet = await FindDataSetAsync(dataSetId, cancellationToken);
        return await ImportAsync(dataSet, relativePath, content, className, cancellationToken);
    }

    /// <summary>
    /// Imports a zip whose folders name the classes. The zip is spooled to disk first (never held in
    /// memory); entries with absolute paths or <c>..</c> are refused, and nothing is written outside
    /// the data set's folder because stored names come from content hashes.
    /// </summary>
    public async Task<IReadOnlyList<UploadOutcome>> ImportZipAsync(int dataSetId, string zipName, Stream content, string? className, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var dataSet = await FindDataSetAsync(dataSetId, cancellationToken);
        var displayName = SanitiseName(zipName);
        var spooled = IncomingFile(dataSetId, ".zip");
        try
        {
            try
            {
                await CopyLimitedAsync(content, spooled, _limits.MaxZipBytes, "zip", hash: null, cancellationToken);
            }
            catch (UploadTooLargeException e)
            {
                return [new UploadOutcome(displayName, UploadStatus.Rejected, Reason: e.Message)];
            }

            // Counted from the end record before ZipArchive reads every central directory entry into memory.
            var zipStream = File.OpenRead(spooled);
            try
            {
                var declared = ZipDirectory.EntryCount(zipStream);
                if (declared > _limits.MaxZipEntries)
                {
                    await zipStream.DisposeAsync();
                    return [new UploadOutcome(displayName, UploadStatus.Rejected, Reason: $"zip holds {declared:N0} entries, over the {_limits.MaxZipEntries:N0} entry limit")];
                }
                zipStream.Position = 0;
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                await zipStream.DisposeAsync();
                return [new UploadOutcome(displayName, UploadStatus.Rejected, Reason: $"not a readable zip file ({e.Message})")];
            }

            ZipArchive archive;
            try
            {
                archive = await ZipArchive.CreateAsync(zipStream, ZipArchiveMode.Read, leaveOpen: false, entryNameEncoding: null, cancellationToken);
            }
            catch (InvalidDataException e)
            {
                await zipStream.DisposeAsync();
                return [new UploadOutcome(displayName, UploadStatus.Rejected, Reason: $"not a readable zip file ({e.Message})")];
            }

            await using (archive)
            {
                var entries = archive.Entries.Where(e => !IsDirectoryEntry(e)).ToList();
                var expanded = entries.Sum(e => e.Length);
                if (expanded > _limits.MaxZipExpandedBytes)
                    return [new UploadOutcome(displayName, UploadStatus.Rejected, Reason: $"zip inflates to {ImageDecoder.FormatBytes(expanded)}, over the {ImageDecoder.FormatBytes(_limits.MaxZipExpandedBytes)} limit on what its files may add up to")];
                var outcomes = new List<UploadOutcome>(entries.Count);
                foreach (var entry in entries)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if ((UnsafeEntryReason(entry.FullName) ?? SkippedEntryReason(entry)) is { } unsafeReason)
                    {
                        outcomes.Add(new UploadOutcome(SanitiseName(entry.FullName), UploadStatus.Rejected, Reason: unsafeReason));
                        continue;
                    }
                    if (IsHiddenOrSystem(entry.FullName))
                        continue;
                    if (entry.Length > _limits.MaxImageBytes)
                    {
                        outcomes.Add(new UploadOutcome(SanitiseName(entry.FullName), UploadStatus.Rejected, Reason: TooLargeMessage("image", entry.Length, _limits.MaxImageBytes)));
                        continue;
                    }
                    var stream = await entry.OpenAsync(cancellationToken);
                    await using (stream)
                        outcomes.Add(await ImportAsync(dataSet, entry.FullName, stream, className, cancellationToken));
                }
                return outcomes;
            }
        }
        finally
        {
            File.Delete(spooled);
        }
    }

    /// <summary>Files of a folder import received and decoded ahead of the one being stored: enough to keep both cores busy.</summary>
    static readonly int FolderLookahead = Math.Max(2, Environment.ProcessorCount * 2);

    /// <summary>
    /// Imports a class-folder data set from disk (the command line's <c>import</c>), by the same rules as
    /// uploads. Files are read, hashed and decoded a few at a time in parallel, and stored one by one in
    /// the folder's order, so ids, duplicates and outcomes come out as a one-at-a-time import gives them.
    /// </summary>
    public async Task<IReadOnlyList<UploadOutcome>> ImportFolderAsync(int dataSetId, string directory, IProgress<UploadOutcome>? progress = null, CancellationToken cancellationToken = default)
    {
        var dataSet = await FindDataSetAsync(dataSetId, cancellationToken);
        var files = ImageFolder.FilesUnder(directory)
            .Order(StringComparer.Ordinal)
            .Select(file => Path.GetRelativePath(directory, file))
            .Where(relative => !IsHiddenOrSystem(relative))
            .ToList();
        var outcomes = new List<UploadOutcome>(files.Count);
        var ahead = new Queue<Task<Arrival>>();
        try
        {
            for (var next = 0; next < files.Count || ahead.Count > 0;)
            {
                while (next < files.Count && ahead.Count < FolderLookahead)
                {
                    var relative = files[next++];
                    ahead.Enqueue(Task.Run(() => ReceiveFileAsync(dataSet, directory, relative, cancellationToken), cancellationToken));
                }
                var arrival = await ahead.Dequeue();
                try
                {
                    var outcome = await StoreAsync(dataSet, arrival, cancellationToken);
                    outcomes.Add(outcome);
                    progress?.Report(outcome);
                }
                finally
                {
                    arrival.Discard();
                }
            }
        }
        finally
        {
            // Cancelled or failed: what was received ahead is not stored, and its spool goes.
            while (ahead.Count > 0)
            {
                try
                {
                    (await ahead.Dequeue()).Discard();
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or UnauthorizedAccessException)
                {
                    // It never spooled anything (its failure is not the one to report), or its spool is already gone.
                }
            }
        }
        return outcomes;
    }

    async Task<Arrival> ReceiveFileAsync(DataSet dataSet, string directory, string relative, CancellationToken cancellationToken)
    {
        FileStream stream;
        try
        {
            stream = File.OpenRead(Path.Combine(directory, relative));
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // One file the importer cannot read is that file's refusal, not the end of the import.
            var why = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "the file went away before it was read",
                UnauthorizedAccessException => "file cannot be read: permission denied",
                _ => "file cannot be read: an I/O error",
            };
            return Arrival.Refused(new UploadOutcome(SanitiseName(relative), UploadStatus.Rejected, Reason: why));
        }
        Arrival arrival;
        await using (stream)
            arrival = await ReceiveAsync(dataSet, relative, stream, chosenClass: null, cancellationToken);
        // Decoded now, on this thread: a folder's files are the importer's own, so no duplicate's bytes are spared.
        return arrival.Inspected();
    }

    async Task<UploadOutcome> ImportAsync(DataSet dataSet, string relativePath, Stream content, string? chosenClass, CancellationToken cancellationToken)
    {
        var arrival = await ReceiveAsync(dataSet, relativePath, content, chosenClass, cancellationToken);
        try
        {
            return await StoreAsync(dataSet, arrival, cancellationToken);
        }
        finally
        {
            arrival.Discard();
        }
    }

    /// <summary>Spools <paramref name="content"/> under <c>.incoming/</c> while hashing it, or says why it is refused before that.</summary>
    async Task<Arrival> ReceiveAsync(DataSet dataSet, string relativePath, Stream content, string? chosenClass, CancellationToken cancellationToken)
    {
        var name = SanitiseName(relativePath);
        var className = ResolveClass(relativePath, dataSet.ClassNames, chosenClass);
        if (className is null)
        {
            return Arrival.Refused(new UploadOutcome(name, UploadStatus.Rejected,
                Reason: $"no class: choose one, or put the file in a {string.Join("/ or ", dataSet.ClassNames)}/ folder"));
        }

        var temporary = IncomingFile(dataSet.Id, ".part");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var length = await CopyLimitedAsync(content, temporary, _limits.MaxImageBytes, "image", hash, cancellationToken);
            return new Arrival(name, className, temporary, Convert.ToHexStringLower(hash.GetHashAndReset()), length, null, _limits.ForImages());
        }
        catch (UploadTooLargeException e)
        {
            File.Delete(temporary);
            return Arrival.Refused(new UploadOutcome(name, UploadStatus.Rejected, className, e.Message));
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Stores a received file: a duplicate is answered from its hash, anything else is checked by content, moved into its class folder and recorded.</summary>
    async Task<UploadOutcome> StoreAsync(DataSet dataSet, Arrival arrival, CancellationToken cancellationToken)
    {
        if (arrival.Outcome is { } refused)
            return refused;
        var (name, className, temporary, sha256) = (arrival.Name, arrival.ClassName!, arrival.Temporary!, arrival.Sha256!);
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            // Duplicates are answered from the hash alone: an upload's bytes are never decoded for them.
            if (await DuplicateOfAsync(context, dataSet.Id, sha256, cancellationToken) is { } existing)
                return existing.Outcome(name, className);

            var inspection = arrival.Inspection ?? arrival.Inspect();
            if (inspection.Rejection is { } reason)
                return new UploadOutcome(name, UploadStatus.Rejected, className, reason);
            var inspected = inspection.Image!;

            var storedName = sha256[..32] + Extension(inspected.Format);
            var target = paths.PhotoFile(dataSet.Id, className, storedName, trashed: false);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (!ExclusiveMove.TryMove(temporary, target))
            {
                // The same bytes arrived in a concurrent upload a moment earlier.
                return new UploadOutcome(name, UploadStatus.Duplicate, className, "same file as another upload in progress");
            }

            var photo = new Photo
            {
                DataSetId = dataSet.Id,
                ClassName = className,
                StoredName = storedName,
                OriginalName = name,
                Sha256 = sha256,
                PerceptualHash = inspection.Hash,
                Width = inspection.Width,
                Height = inspection.Height,
                Format = ImageDecoder.Describe(inspected.Format),
                ByteSize = arrival.Length,
                Status = PhotoStatus.Ok,
                AddedAt = clock.GetUtcNow(),
            };
            context.Photos.Add(photo);
            try
            {
                await context.SaveChangesAsync(cancellationToken);
            }
            catch (Exception e) when (e is DbUpdateException or OperationCanceledException)
            {
                // No row, so no file either.
                File.Delete(target);
                if (e is DbUpdateException && await DuplicateOfAsync(context, dataSet.Id, sha256, CancellationToken.None) is { } raced)
                    return raced.Outcome(name, className);
                throw;
            }
            return new UploadOutcome(name, UploadStatus.Accepted, className, PhotoId: photo.Id);
        }
    }

    /// <summary>A file spooled and hashed (or refused before that), and, once decoded, what its content is.</summary>
    sealed record Arrival(string Name, string? ClassName, string? Temporary, string? Sha256, long Length, UploadOutcome? Outcome, ImageLimits? Limits)
    {
        public Inspection? Inspection { get; init; }

        public static Arrival Refused(UploadOutcome outcome) => new(outcome.Name, null, null, null, 0, outcome, null);

        public Inspection Inspect() => PhotoImporter.Inspect(Temporary!, Limits);

        /// <summary>This arrival with its content decoded (a refused one as it is).</summary>
        public Arrival Inspected() => Outcome is null ? this with { Inspection = Inspect() } : this;

        /// <summary>Deletes the spool; after a store it has been moved away, or it is no one's.</summary>
        public void Discard()
        {
            if (Temporary is not null)
                File.Delete(Temporary);
        }
    }

    /// <summary>A photo's content as an upload reads it (decoded small), or why it cannot be used; <see cref="Width"/>, <see cref="Height"/> and <see cref="Hash"/> are what its row records.</summary>
    internal sealed record Inspection(DecodedImage? Image, string? Rejection)
    {
        public int Width => Image!.SourceWidth;
        public int Height => Image!.SourceHeight;
        public long Hash => unchecked((long)PerceptualHash.Compute(Image!));
    }

    /// <summary>Reads a photo file as an upload does: a scan reads stored photos the same way, so what it records matches.</summary>
    internal static Inspection Inspect(string path, ImageLimits? limits)
    {
        try
        {
            return new Inspection(ImageDecoder.Decode(path, InspectSize, limits), null);
        }
        catch (ImageRejectedException e)
        {
            return new Inspection(null, e.Message);
        }
    }

    static Task<StoredCopy?> DuplicateOfAsync(HappySadDbContext context, int dataSetId, string sha256, CancellationToken cancellationToken) =>
        context.Photos.AsNoTracking()
            .Where(p => p.DataSetId == dataSetId && p.Sha256 == sha256)
            .Select(p => new StoredCopy(p.OriginalName, p.ClassName, p.TrashedAt != null))
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>The photo already in the data set with the same bytes as an upload.</summary>
    sealed record StoredCopy(string OriginalName, string ClassName, bool Trashed)
    {
        /// <summary>
        /// Nothing is stored either way, but the same photo sent for the other class is a label
        /// conflict, which the user has to settle; the same class is only "already here".
        /// </summary>
        public UploadOutcome Outcome(string name, string? className)
        {
            var where = Trashed ? $"in the trash ({ClassName})" : $"in {ClassName}";
            var reason = className is not null && className != ClassName
                ? $"label conflict: sent as {className}, but the same photo is already {where} as {OriginalName}"
                : $"already in this data set: same file as {OriginalName}, {where}";
            return new UploadOutcome(name, UploadStatus.Duplicate, className, reason, ExistingClass: ClassName);
        }
    }

    async Task<DataSet> FindDataSetAsync(int dataSetId, CancellationToken cancellationToken)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            return await context.DataSets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == dataSetId, cancellationToken)
                ?? throw new DataSetNotFoundException(dataSetId);
        }
    }

    string IncomingFile(int dataSetId, string extension)
    {
        var directory = paths.Incoming(dataSetId);
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, Guid.NewGuid().ToString("N") + extension);
    }

    /// <summary>Streams to <paramref name="path"/>, hashing as it goes, and stops as soon as the limit is passed.</summary>
    async Task<long> CopyLimitedAsync(Stream source, string path, long limit, string what, IncrementalHash? hash, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long total = 0;
        var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, useAsync: true);
        await using (target)
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    logger.LogInformation("Refused an upload over the {Limit} byte {What} limit", limit, what);
                    throw new UploadTooLargeException(TooLargeMessage(what, null, limit));
                }
                hash?.AppendData(buffer, 0, read);
                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        return total;
    }

    static string TooLargeMessage(string what, long? size, long limit) =>
        size is { } known
            ? $"{what} is {ImageDecoder.FormatBytes(known)}, over the {ImageDecoder.FormatBytes(limit)} limit"
            : $"{what} is over the {ImageDecoder.FormatBytes(limit)} limit";

    /// <summary>The nearest folder named like a class decides; otherwise the chosen class, if it is one.</summary>
    internal static string? ResolveClass(string relativePath, IReadOnlyList<string> classNames, string? chosenClass)
    {
        var folders = relativePath.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries)[..^1];
        foreach (var folder in folders.Reverse())
        {
            var match = classNames.FirstOrDefault(c => ClassNames.Comparer.Equals(c, folder));
            if (match is not null)
                return match;
        }
        return classNames.FirstOrDefault(c => ClassNames.Comparer.Equals(c, chosenClass));
    }

    internal static string? UnsafeEntryReason(string entryName)
    {
        var normalised = entryName.Replace('\\', '/');
        if (normalised.StartsWith('/') || (normalised.Length > 1 && normalised[1] == ':'))
            return "zip entry has an absolute path; refused";
        if (normalised.Split('/').Any(part => part == ".."))
            return "zip entry climbs out of its folder ('..'); refused";
        return null;
    }

    /// <summary>Symbolic links and zips inside the zip are never followed or unpacked.</summary>
    static string? SkippedEntryReason(ZipArchiveEntry entry)
    {
        const int UnixFileType = 0xF000, UnixSymlink = 0xA000;
        if (((entry.ExternalAttributes >> 16) & UnixFileType) == UnixSymlink)
            return "zip entry is a symbolic link; skipped";
        if (IsZip(entry.FullName))
            return "zip inside the zip; nested zips are not unpacked";
        return null;
    }

    static bool IsDirectoryEntry(ZipArchiveEntry entry) => entry.FullName.EndsWith('/') || entry.FullName.EndsWith('\\');

    /// <summary>macOS and Windows bookkeeping files that zips and folders carry along, not photos.</summary>
    static bool IsHiddenOrSystem(string relativePath) =>
        relativePath.Replace('\\', '/').Split('/').Any(part => part.StartsWith('.') || part == "__MACOSX" || part.Equals("Thumbs.db", StringComparison.OrdinalIgnoreCase));

    /// <summary>The file name only, cleaned as <see cref="DisplayNames"/> does and without path separators or shell wildcards, at most 255 characters.</summary>
    internal static string SanitiseName(string name)
    {
        var fileName = name.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        var clean = new string([.. DisplayNames.Clean(fileName).Where(c => c is not ('<' or '>' or '"' or '|' or ':' or '*' or '?'))]).Trim();
        if (clean.Length == 0)
            clean = "unnamed";
        return clean.Length <= 255 ? clean : clean[..255];
    }

    static string Extension(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => ".jpg",
        ImageFormat.Png => ".png",
        ImageFormat.Bmp => ".bmp",
        ImageFormat.Gif => ".gif",
        ImageFormat.WebP => ".webp",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };
}

public sealed class UploadTooLargeException(string message) : Exception(message);

public sealed class DataSetNotFoundException(int id) : Exception(string.Create(CultureInfo.InvariantCulture, $"data set {id} does not exist"))
{
    public int Id { get; } = id;
}
