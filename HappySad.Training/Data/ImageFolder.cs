namespace HappySad.Training.Data;

/// <summary>A file in a data set folder with the class its folder names, and its content's SHA-256 (hex) when already known.</summary>
public sealed record LabeledFile(string Path, int Label, string? Sha256 = null);

/// <summary>A file that cannot be used, and why.</summary>
public sealed record RejectedFile(string Path, string ClassName, RejectionKind Kind, string Reason);

/// <summary>A usable file whose extension names another format than its content (reported, not refused).</summary>
public sealed record MislabeledFile(string Path, ImageFormat ExtensionFormat, ImageFormat ContentFormat)
{
    public string Reason =>
        $"extension says {ImageDecoder.Describe(ExtensionFormat)} but the content is {ImageDecoder.Describe(ContentFormat)}";
}

/// <summary>
/// A data set on disk: one subfolder per class, exactly two classes, ordered by ordinal folder
/// name as Keras orders them (so <c>happy</c> is 0 and <c>sad</c> is 1).
/// </summary>
public sealed class ImageFolder
{
    ImageFolder(string root, IReadOnlyList<string> classNames, IReadOnlyList<LabeledFile> files)
    {
        Root = root;
        ClassNames = classNames;
        Files = files;
    }

    public string Root { get; }
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Every regular, non-hidden file under the class folders, before any content check.</summary>
    public IReadOnlyList<LabeledFile> Files { get; }

    public static ImageFolder Open(string root)
    {
        if (!Directory.Exists(root))
            throw new DataSetException($"data folder '{root}' does not exist");
        // A class is named as its folder, composed (a macOS folder may spell its accents decomposed).
        var folders = Directory.EnumerateDirectories(root)
            .Select(System.IO.Path.GetFileName)
            .OfType<string>()
            .Where(name => !name.StartsWith('.'))
            .Select(folder => (Folder: folder, Name: Data.ClassNames.Composed(folder)))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        if (folders.Count != 2)
        {
            var found = folders.Count == 0 ? "none" : string.Join(", ", folders.Select(f => f.Folder));
            throw new DataSetException($"data folder '{root}' must hold exactly two class folders (e.g. happy/ and sad/); found {folders.Count}: {found}");
        }
        if (Data.ClassNames.LookAlike(folders[0].Name, folders[1].Name))
            throw new DataSetException($"data folder '{root}' has class folders '{folders[0].Folder}' and '{folders[1].Folder}', which read as one name");
        var classNames = folders.Select(f => f.Name).ToList();

        var files = new List<LabeledFile>();
        for (var label = 0; label < folders.Count; label++)
        {
            files.AddRange(FilesUnder(System.IO.Path.Combine(root, folders[label].Folder))
                .Where(path => !System.IO.Path.GetFileName(path).StartsWith('.'))
                .Order(StringComparer.Ordinal)
                .Select(path => new LabeledFile(path, label)));
        }
        return new ImageFolder(root, classNames, files);
    }

    /// <summary>
    /// Every file under <paramref name="directory"/> and its subfolders, hidden and system files left
    /// out. A linked folder is not entered: one that points back up (<c>ln -s .. up</c>) would list
    /// every photo again at each level, until the system refuses the path. Linked files are listed.
    /// </summary>
    public static IEnumerable<string> FilesUnder(string directory) =>
        new System.IO.Enumeration.FileSystemEnumerable<string>(directory, (ref System.IO.Enumeration.FileSystemEntry entry) => entry.ToFullPath(),
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System })
        {
            ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry entry) => !entry.IsDirectory,
            ShouldRecursePredicate = (ref System.IO.Enumeration.FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
        };

    /// <summary>
    /// Decodes every file once, in parallel, keeping the resized pixels of the good ones and the
    /// reason for each bad one. Progress reports the number of files done.
    /// </summary>
    public ImageFolderLoad Load(int size = ImageDecoder.DefaultSize, ImageLimits? limits = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        ImageFiles.Load(Files, ClassNames, new ImagePreparation(size), limits, progress, cancellationToken);

    /// <summary>As <see cref="Load(int, ImageLimits?, IProgress{int}?, CancellationToken)"/>, preparing each image for a particular model (a face crop, its input size).</summary>
    public ImageFolderLoad Load(ImagePreparation preparation, ImageLimits? limits = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        ImageFiles.Load(Files, ClassNames, preparation, limits, progress, cancellationToken);
}

/// <summary>Decodes a list of labelled files into an <see cref="ImageSet"/>, wherever the files live.</summary>
public static class ImageFiles
{
    /// <summary>
    /// Decodes every file once, in parallel, keeping the resized pixels of the good ones (in the
    /// order given) and the reason for each bad one, a missing file included. Progress reports the
    /// number of files done.
    /// </summary>
    public static ImageFolderLoad Load(IReadOnlyList<LabeledFile> files, IReadOnlyList<string> classNames, int size = ImageDecoder.DefaultSize, ImageLimits? limits = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        Load(files, classNames, new ImagePreparation(size), limits, progress, cancellationToken);

    public static ImageFolderLoad Load(IReadOnlyList<LabeledFile> files, IReadOnlyList<string> classNames, ImagePreparation preparation, ImageLimits? limits = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(preparation);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(classNames);
        var results = new (DecodedImage? Image, RejectedFile? Rejected)[files.Count];
        var done = 0;
        Parallel.For(0, files.Count, (limits ?? ImageLimits.Default).Gate.LoopOptions(cancellationToken), i =>
        {
            var file = files[i];
            try
            {
                results[i] = (preparation.Prepare(file.Path, limits), null);
            }
            catch (ImageRejectedException e)
            {
                results[i] = (null, new RejectedFile(file.Path, classNames[file.Label], e.Kind, e.Message));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                results[i] = (null, new RejectedFile(file.Path, classNames[file.Label], RejectionKind.Missing, "file no longer exists"));
            }
            progress?.Report(Interlocked.Increment(ref done));
        });

        var images = new List<DecodedImage>();
        var labels = new List<int>();
        var paths = new List<string>();
        var mislabeled = new List<MislabeledFile>();
        for (var i = 0; i < files.Count; i++)
        {
            if (results[i].Image is not { } image)
                continue;
            images.Add(image);
            labels.Add(files[i].Label);
            paths.Add(files[i].Path);
            if (ImageSniffer.FromExtension(files[i].Path) is { } claimed && claimed != image.Format)
                mislabeled.Add(new MislabeledFile(files[i].Path, claimed, image.Format));
        }

        return new ImageFolderLoad(
            ImageSet.FromDecoded(classNames, images, labels, paths, preparation.InputSize),
            [.. results.Select(r => r.Rejected).OfType<RejectedFile>()],
            mislabeled)
        {
            FacesFound = preparation.DetectsFaces ? images.Count(i => i.Found.Face is not null) : null,
            Found = preparation.DetectsFaces ? [.. images.Select(i => i.Found)] : [],
        };
    }
}

/// <summary>What <see cref="ImageFolder.Load(ImagePreparation, ImageLimits, IProgress{int}, CancellationToken)"/> found: the usable images, the refused files, and the mislabeled ones.</summary>
public sealed record ImageFolderLoad(ImageSet Images, IReadOnlyList<RejectedFile> Rejected, IReadOnlyList<MislabeledFile> Mislabeled)
{
    /// <summary>With a face crop: how many images had a face (the rest are used whole). Null without one.</summary>
    public int? FacesFound { get; init; }

    /// <summary>With a face crop: what its preparation found in each image (the face it was cropped to, raised hands), in <see cref="Images"/>' order. Empty without one.</summary>
    public IReadOnlyList<Faces.PhotoFindings> Found { get; init; } = [];

    /// <summary>The pixel cache the images are read from; null for images held in memory.</summary>
    public PixelCacheUse? Cache { get; init; }
}

/// <summary>A data set that cannot be used as asked; its message is one line meant for people.</summary>
public sealed class DataSetException(string message) : Exception(message);
