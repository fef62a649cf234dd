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
    public static IReadOnlyList<(string From, string To)> Quarantine(IEnumerable<RejectedFile> rejected, string quarantineDirectory)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        var moves = new List<(string, string)>();
        foreach (var file in rejected)
        {
            var directory = Path.Combine(quarantineDirectory, file.ClassName);
            Directory.CreateDirectory(directory);
            var target = Path.Combine(directory, Path.GetFileName(file.Path));
            for (var n = 1; File.Exists(target); n++)
                target = Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(file.Path)}.{n}{Path.GetExtension(file.Path)}");
            File.Move(file.Path, target);
            moves.Add((file.Path, target));
        }
        return moves;
    }
}
