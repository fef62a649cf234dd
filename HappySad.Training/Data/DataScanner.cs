namespace HappySad.Training.Data;

/// <summary>What a scan of a data set folder found.</summary>
public sealed record ScanReport(IReadOnlyList<string> ClassNames, int Files, IReadOnlyList<RejectedFile> Rejected, IReadOnlyList<MislabeledFile> Mislabeled)
{
    public int Usable => Files - Rejected.Count;
}

/// <summary>
/// The notebook's clean-up, without its data loss: finds files that cannot be trained on and,
/// when asked, moves them to a quarantine folder. It never deletes.
/// </summary>
public static class DataScanner
{
    /// <summary>Small decodes are enough to judge a file: the codec still reads the whole stream, so truncation shows.</summary>
    const int ScanSize = 64;

    public static ScanReport Scan(ImageFolder folder, ImageLimits? limits = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var load = folder.Load(ScanSize, limits, progress, cancellationToken);
        return new ScanReport(folder.ClassNames, folder.Files.Count, load.Rejected, load.Mislabeled);
    }

    /// <summary>
    /// Moves each rejected file to <c>quarantine/&lt;class&gt;/&lt;name&gt;</c>, adding a counter to the
    /// name when one is already there. Returns where each file went.
    /// </summary>
    /// <exception cref="QuarantineException">
    /// A file could not be moved: the quarantine stops there, and the exception lists the files moved
    /// before it. That file is left where it was, with no copy of it in the quarantine.
    /// </exception>
    public static IReadOnlyList<(string From, string To)> Quarantine(IEnumerable<RejectedFile> rejected, string quarantineDirectory)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        var moves = new List<(string, string)>();
        foreach (var file in rejected)
        {
            string? target = null;
            try
            {
                var directory = Path.Combine(quarantineDirectory, file.ClassName);
                Directory.CreateDirectory(directory);
                target = Path.Combine(directory, Path.GetFileName(file.Path));
                for (var n = 1; File.Exists(target); n++)
                    target = Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(file.Path)}.{n}{Path.GetExtension(file.Path)}");
                File.Move(file.Path, target);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A move to another file system copies, then deletes: when the delete (or the copy) fails,
                // the file is still in the data set and whatever reached the quarantine is a copy of it.
                var copy = target is not null && File.Exists(file.Path) && File.Exists(target) ? target : null;
                throw new QuarantineException(moves, file.Path, e, copy is null || TryDelete(copy) ? null : copy);
            }
            moves.Add((file.Path, target));
        }
        return moves;
    }

    static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>A quarantine that stopped at a file it could not move; <see cref="Moved"/> were moved before it.</summary>
/// <param name="copy">A copy of the file left in the quarantine that could not be deleted; null when none is.</param>
public sealed class QuarantineException(IReadOnlyList<(string From, string To)> moved, string path, Exception inner, string? copy = null)
    : IOException($"could not move {path} to the quarantine ({inner.Message.TrimEnd('.')}); it is still in the data set" + (copy is null ? "" : $", and {copy} is a copy of it that could not be deleted"), inner)
{
    public IReadOnlyList<(string From, string To)> Moved { get; } = moved;

    public string Path { get; } = path;
}
