using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using HappySad.Training.Persistence;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Predictions;

/// <summary>A model that can predict: a succeeded run's, or a model file imported from disk.</summary>
public sealed record ModelInfo(
    string Id,
    int? RunId,
    string Name,
    IReadOnlyList<string> ClassNames,
    string Architecture,
    double? ValAccuracy,
    double? TestAccuracy,
    double? TestBalancedAccuracy,
    DateTimeOffset CreatedAt,
    string File)
{
    /// <summary>Why this model file cannot predict (a bad card, unreadable zip), or null when it can. Listed so a bad file is seen, not hidden.</summary>
    public string? Unusable { get; init; }
}

public sealed class ModelNotFoundException(string id) : Exception($"model '{id}' does not exist")
{
    public string Id { get; } = id;
}

/// <summary>
/// Every model the app can predict with. Run models have ids <c>run-{id}</c>; files imported into
/// <c>data/models/</c> (uploaded on the Predict page, or copied there) have ids <c>file-{name}</c>.
/// </summary>
public sealed partial class ModelCatalog(IDbContextFactory<HappySadDbContext> contexts, StoragePaths paths, IOptions<UploadLimits> limits, ILogger<ModelCatalog> logger)
{
    const string RunPrefix = "run-";
    const string FilePrefix = "file-";

    /// <summary>Parsed cards by path, kept while the file's write time and length are unchanged, so listing does not re-read every zip.</summary>
    readonly ConcurrentDictionary<string, (DateTime Written, long Length, ModelInfo Info)> _cards = new(StringComparer.Ordinal);

    /// <summary>The id of the model a succeeded run saved, as the catalog, the predict API and the Predict page's <c>?model=</c> know it.</summary>
    public static string RunModelId(int runId) => RunPrefix + runId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Succeeded runs, best validation accuracy first (newest first among equals), then imported files, newest first.</summary>
    public async Task<IReadOnlyList<ModelInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        List<TrainingRun> runs;
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            runs = await context.TrainingRuns.AsNoTracking()
                .Where(r => r.Status == RunStatus.Succeeded && r.ModelPath != null)
                .ToListAsync(cancellationToken);
        }
        var fromRuns = runs
            .OrderByDescending(r => r.BestValAccuracy ?? -1).ThenByDescending(r => r.Id)
            .Select(FromRun);
        return [.. fromRuns, .. ImportedFiles().OrderByDescending(m => m.CreatedAt)];
    }

    public async Task<ModelInfo> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.StartsWith(RunPrefix, StringComparison.Ordinal) && int.TryParse(id.AsSpan(RunPrefix.Length), System.Globalization.CultureInfo.InvariantCulture, out var runId))
        {
            var context = await contexts.CreateDbContextAsync(cancellationToken);
            await using (context)
            {
                var run = await context.TrainingRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId && r.Status == RunStatus.Succeeded && r.ModelPath != null, cancellationToken);
                if (run is not null && File.Exists(paths.Absolute(run.ModelPath!)))
                    return FromRun(run);
            }
        }
        if (id.StartsWith(FilePrefix, StringComparison.Ordinal) && SafeName().IsMatch(id[FilePrefix.Length..]))
        {
            var file = Path.Combine(paths.ModelsRoot, id[FilePrefix.Length..] + ModelStore.Extension);
            if (File.Exists(file) && FromFile(file) is { } info)
                return info;
        }
        throw new ModelNotFoundException(id);
    }

    /// <summary>Checks an uploaded model file (it must load) and keeps it under <c>data/models/</c>.</summary>
    public async Task<ModelInfo> ImportAsync(string fileName, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var stem = Path.GetFileNameWithoutExtension(fileName);
        // A name the catalog lists: it starts with a letter or digit (SafeName).
        stem = UnsafeCharacters().Replace(stem, "-").Trim('-', '.', '_');
        if (stem.Length == 0)
            stem = "model";
        stem = stem[..Math.Min(stem.Length, 60)];
        Directory.CreateDirectory(paths.ModelsRoot);
        var temporary = Path.Combine(paths.ModelsRoot, $".{Guid.NewGuid():N}.tmp");
        try
        {
            var stream = File.Create(temporary);
            await using (stream)
                await CopyAtMostAsync(content, stream, limits.Value.MaxModelBytes, cancellationToken);
            // Loading proves more than reading the card: the weights must fit the architecture.
            ModelStore.Load(temporary, TorchSharp.torch.CPU).Dispose();
            // Two imports of one name at once each get a file of their own.
            var target = Path.Combine(paths.ModelsRoot, stem + ModelStore.Extension);
            for (var n = 2; !ExclusiveMove.TryMove(temporary, target); n++)
                target = Path.Combine(paths.ModelsRoot, $"{stem}-{n}{ModelStore.Extension}");
            if (FromFile(target) is not { } imported)
            {
                // Never expected (the name is made safe above): a file the catalog cannot list is not kept hidden.
                File.Delete(target);
                throw new ModelFormatException("the file could not be kept under a name the model list shows");
            }
            logger.LogInformation("Imported model file {File}", target);
            return imported;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    static async Task CopyAtMostAsync(Stream source, Stream target, long limit, CancellationToken cancellationToken)
    {
        var chunk = new byte[81920];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(chunk, cancellationToken)) > 0)
        {
            total += read;
            if (total > limit)
                throw new ModelFormatException($"the file is over the {Training.Data.ImageDecoder.FormatBytes(limit)} model file limit");
            await target.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
        }
    }

    /// <summary>The model file a model id names (the catalog's check that it exists is <see cref="GetAsync"/>).</summary>
    public string FileOf(ModelInfo model) => paths.Absolute(model.File);

    ModelInfo FromRun(TrainingRun run) => new(
        RunModelId(run.Id),
        run.Id,
        $"{run.Title} · {run.DataName}",
        run.ClassNames,
        run.Recipe.Architecture,
        run.BestValAccuracy,
        run.TestAccuracy,
        run.TestBalancedAccuracy,
        run.FinishedAt ?? run.CreatedAt,
        run.ModelPath!);

    IEnumerable<ModelInfo> ImportedFiles() =>
        Directory.Exists(paths.ModelsRoot)
            ? Directory.EnumerateFiles(paths.ModelsRoot, "*" + ModelStore.Extension).Select(FromFile).OfType<ModelInfo>()
            : [];

    /// <summary>The file's model, or one marked <see cref="ModelInfo.Unusable"/> with the reason; null for names the catalog does not serve.</summary>
    ModelInfo? FromFile(string file)
    {
        var stem = Path.GetFileNameWithoutExtension(file);
        if (!SafeName().IsMatch(stem))
            return null;
        var info = new FileInfo(file);
        if (!info.Exists)
            return null;
        if (_cards.TryGetValue(file, out var cached) && cached.Written == info.LastWriteTimeUtc && cached.Length == info.Length)
            return cached.Info;
        ModelInfo model;
        try
        {
            var card = ModelStore.ReadCard(file);
            model = new ModelInfo(FilePrefix + stem, null, Path.GetFileName(file), card.ClassNames, card.Architecture,
                card.Metrics?.ValAccuracy, card.Metrics?.TestAccuracy, card.Metrics?.TestBalancedAccuracy, card.CreatedAt, paths.Relative(file));
        }
        catch (ModelFormatException e)
        {
            logger.LogWarning("Model file {File} is unusable: {Reason}", file, e.Message);
            model = new ModelInfo(FilePrefix + stem, null, Path.GetFileName(file), [], "unknown", null, null, null, new DateTimeOffset(info.LastWriteTimeUtc), paths.Relative(file))
            {
                Unusable = e.Message,
            };
        }
        _cards[file] = (info.LastWriteTimeUtc, info.Length, model);
        return model;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]
    private static partial Regex SafeName();

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex UnsafeCharacters();
}
