using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Training.Pretrained;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Runs;

/// <summary>
/// Executes one queued run from start to finish: takes the snapshot, decodes it once, calls the
/// trainer, and records every epoch and the outcome as it happens. Used by the dashboard's worker
/// and by <c>train --record</c> alike, so both leave the same record.
/// </summary>
public sealed class RunExecutor(
    IDbContextFactory<HappySadDbContext> contexts,
    StoragePaths paths,
    RunEvents events,
    IOptions<TrainingOptions> options,
    TimeProvider clock,
    ILogger<RunExecutor> logger)
{
    /// <summary>One image of a snapshot before decoding.</summary>
    sealed record SnapshotEntry(int? PhotoId, string FullPath, string RelativePath, string Name, int Label, string Sha256);

    /// <summary>
    /// Runs <paramref name="runId"/> if it is still queued. <paramref name="cancel"/> is a person's
    /// cancel (recorded as Cancelled); <paramref name="stopping"/> is the process stopping (recorded
    /// as Interrupted). <paramref name="folder"/> is the class-folder data of a command-line run.
    /// Never throws for a failed run: the failure is recorded on the run.
    /// </summary>
    public async Task<RunStatus> ExecuteAsync(int runId, string? folder, IReadOnlyList<ITrainingCallback> callbacks, CancellationToken cancel, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(callbacks);
        if (!await StartAsync(runId))
            return RunStatus.Cancelled;
        logger.LogInformation("Run {RunId} started", runId);
        var recorder = new RunRecorder(contexts, events, options.Value.ProgressIntervalMilliseconds, runId);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, stopping);
        try
        {
            await TrainAsync(runId, folder, [recorder, .. callbacks], linked.Token);
            logger.LogInformation("Run {RunId} succeeded", runId);
            return RunStatus.Succeeded;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await FinishAsync(runId, RunStatus.Cancelled, $"Cancelled {recorder.Where}.");
            logger.LogInformation("Run {RunId} cancelled {Where}", runId, recorder.Where);
            return RunStatus.Cancelled;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await FinishAsync(runId, RunStatus.Interrupted, $"The app stopped {recorder.Where}; the epochs before that are kept. Launch a new run to train again.");
            logger.LogWarning("Run {RunId} interrupted by shutdown {Where}", runId, recorder.Where);
            return RunStatus.Interrupted;
        }
#pragma warning disable CA1031 // A failed run is recorded with its error; the worker goes on with the next one.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogError(e, "Run {RunId} failed {Where}", runId, recorder.Where);
            await FinishAsync(runId, RunStatus.Failed, Describe(e));
            return RunStatus.Failed;
        }
    }

    /// <summary>A failure as one line for people: our own exceptions already read well; others keep their type.</summary>
    internal static string Describe(Exception e) => e switch
    {
        DataSetException or ImageRejectedException or ArgumentException or ModelFormatException => Capitalise(e.Message),
        InvalidOperationException when e.Message.Contains("CUDA", StringComparison.Ordinal) => Capitalise(e.Message),
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    async Task<bool> StartAsync(int runId)
    {
        var context = await contexts.CreateDbContextAsync();
        await using (context)
        {
            // Only a run that is still queued starts: a cancel that got there first wins.
            var now = clock.GetUtcNow();
            var started = await context.TrainingRuns
                .Where(r => r.Id == runId && r.Status == RunStatus.Queued)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(r => r.Status, RunStatus.Running)
                    .SetProperty(r => r.StartedAt, now)
                    .SetProperty(r => r.ProcessId, Environment.ProcessId));
            if (started == 0)
                return false;
        }
        events.Publish(new RunStatusMessage(runId, RunStatus.Running, "Preparing photos"));
        return true;
    }

    async Task TrainAsync(int runId, string? folder, IReadOnlyList<ITrainingCallback> callbacks, CancellationToken cancellationToken)
    {
        TrainingRun run;
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
            run = await context.TrainingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, cancellationToken);

        var (classNames, dataDirectory, entries) = run.Source == RunSource.CommandLine
            ? SnapshotFolder(folder ?? throw new InvalidOperationException($"run {runId} trains on a folder, but no folder was given"), cancellationToken)
            : await SnapshotDataSetAsync(run, cancellationToken);

        // Decoded (and face-cropped, if asked) once, now: from here on the run holds its own pixels,
        // whatever happens to the files.
        var recipe = run.Recipe;
        var preparation = recipe.Preparation();
        // Face crops and pretrained networks need face-api's weights: fetched (once) without holding a thread.
        if (preparation.DetectsFaces || ModelArchitectures.Describe(recipe.Architecture).Pretrained)
            await FaceApiPackage.EnsureAsync(cancellationToken: cancellationToken);
        var load = await Task.Run(
            () => ImageFiles.Load([.. entries.Select(e => new LabeledFile(e.FullPath, e.Label))], classNames, preparation, cancellationToken: cancellationToken),
            cancellationToken);
        var images = load.Images;
        foreach (var rejected in load.Rejected)
            logger.LogWarning("Run {RunId} skips {Path}: {Reason}", runId, rejected.Path, rejected.Reason);
        TrainingPipeline.EnsureTrainable(images);

        var split = DataSplit.Stratified(images.Labels, recipe.ToSplit(), recipe.Seed);
        var byPath = entries.ToDictionary(e => e.FullPath, StringComparer.Ordinal);
        var rows = await RecordSnapshotAsync(run, classNames, images, split, byPath, load, cancellationToken);

        var outcome = await TrainingPipeline.RunAsync(images, recipe, callbacks, dataDirectory, cancellationToken);
        using var classifier = outcome.Classifier;
        var modelFile = paths.RunModel(runId);
        ModelStore.Save(modelFile, classifier.Module, classifier.Card);
        await RecordSuccessAsync(runId, outcome, modelFile, images, rows);
    }

    async Task<(IReadOnlyList<string> ClassNames, string Directory, List<SnapshotEntry> Entries)> SnapshotDataSetAsync(TrainingRun run, CancellationToken cancellationToken)
    {
        if (run.DataSetId is not { } dataSetId)
            throw new DataSetException($"the data set '{run.DataName}' was deleted before the run started");
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var dataSet = await context.DataSets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == dataSetId, cancellationToken)
                ?? throw new DataSetException($"the data set '{run.DataName}' was deleted before the run started");
            var photos = await context.Photos.AsNoTracking()
                .Where(p => p.DataSetId == dataSetId && p.TrashedAt == null && p.Status == PhotoStatus.Ok)
                .OrderBy(p => p.Id)
                .Select(p => new { p.Id, p.ClassName, p.StoredName, p.OriginalName, p.Sha256 })
                .ToListAsync(cancellationToken);
            var entries = photos
                .Where(p => dataSet.ClassNames.Contains(p.ClassName))
                .Select(p => new SnapshotEntry(
                    p.Id,
                    paths.PhotoFile(dataSetId, p.ClassName, p.StoredName, trashed: false),
                    $"{p.ClassName}/{p.StoredName}",
                    p.OriginalName,
                    dataSet.ClassNames.IndexOf(p.ClassName),
                    p.Sha256))
                .ToList();
            return (dataSet.ClassNames, paths.DataSet(dataSetId), entries);
        }
    }

    static (IReadOnlyList<string> ClassNames, string Directory, List<SnapshotEntry> Entries) SnapshotFolder(string folder, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(folder);
        var imageFolder = ImageFolder.Open(root);
        var entries = new List<SnapshotEntry>(imageFolder.Files.Count);
        foreach (var file in imageFolder.Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var stream = File.OpenRead(file.Path);
            var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
            entries.Add(new SnapshotEntry(null, file.Path, Path.GetRelativePath(root, file.Path).Replace('\\', '/'), Path.GetFileName(file.Path), file.Label, hash));
        }
        return (imageFolder.ClassNames, root, entries);
    }

    /// <summary>The hash two runs share exactly when they saw the same photos with the same labels, whatever their ids or order.</summary>
    internal static string SnapshotHash(IEnumerable<(string ClassName, string Sha256)> images)
    {
        var lines = images.Select(i => $"{i.ClassName}\t{i.Sha256}\n").Order(StringComparer.Ordinal);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(lines))));
    }

    async Task<List<RunImage>> RecordSnapshotAsync(TrainingRun run, IReadOnlyList<string> classNames, ImageSet images, DataSplit split, Dictionary<string, SnapshotEntry> byPath, ImageFolderLoad load, CancellationToken cancellationToken)
    {
        var splitOf = new RunSplit[images.Count];
        foreach (var i in split.Validation)
            splitOf[i] = RunSplit.Validation;
        foreach (var i in split.Test)
            splitOf[i] = RunSplit.Test;
        var rows = Enumerable.Range(0, images.Count).Select(i =>
        {
            var entry = byPath[images.Paths[i]];
            return new RunImage { RunId = run.Id, PhotoId = entry.PhotoId, Path = entry.RelativePath, Name = entry.Name, Sha256 = entry.Sha256, Label = images.Labels[i], Split = splitOf[i] };
        }).ToList();
        var hash = SnapshotHash(rows.Select(r => (classNames[r.Label], r.Sha256)));

        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            context.RunImages.AddRange(rows);
            var tracked = await context.TrainingRuns.SingleAsync(r => r.Id == run.Id, cancellationToken);
            tracked.ClassNames = [.. classNames];
            tracked.SnapshotHash = hash;
            tracked.TrainImages = split.Train.Count;
            tracked.ValidationImages = split.Validation.Count;
            tracked.TestImages = split.Test.Count;
            tracked.SkippedImages = load.Rejected.Count;
            tracked.FacesFound = load.FacesFound;
            tracked.Device = HappySad.Training.Native.TorchDevices.Resolve(run.Recipe.Device).type.ToString().ToLowerInvariant();
            await context.SaveChangesAsync(cancellationToken);
        }
        return rows;
    }

    async Task RecordSuccessAsync(int runId, TrainingOutcome outcome, string modelFile, ImageSet images, List<RunImage> rows)
    {
        var rowByPath = new Dictionary<string, RunImage>(StringComparer.Ordinal);
        for (var i = 0; i < images.Count; i++)
            rowByPath[images.Paths[i]] = rows[i];
        var indexByPath = Enumerable.Range(0, images.Count).ToDictionary(i => images.Paths[i], StringComparer.Ordinal);

        var context = await contexts.CreateDbContextAsync();
        await using (context)
        {
            foreach (var prediction in outcome.Test.Predictions)
            {
                var row = rowByPath[prediction.Path];
                context.RunImages.Attach(row);
                row.Predicted = prediction.Predicted;
                row.Probability = prediction.Probability;
            }

            var run = await context.TrainingRuns.SingleAsync(r => r.Id == runId);
            var metrics = outcome.Test.Metrics;
            var best = outcome.History.BestByValidationAccuracy;
            var hasTest = metrics.Count > 0;
            run.Device = outcome.Classifier.Card.Training?.Device;
            run.BestValAccuracy = best?.ValAccuracy;
            run.BestEpoch = best?.Epoch;
            run.RestoredEpoch = outcome.History.RestoredEpoch;
            run.TestAccuracy = hasTest ? metrics.Accuracy : null;
            run.TestPrecision = hasTest ? metrics.Precision : null;
            run.TestRecall = hasTest ? metrics.Recall : null;
            run.TestF1 = hasTest ? metrics.F1 : null;
            run.TestBalancedAccuracy = hasTest ? metrics.BalancedAccuracy : null;
            (run.TruePositives, run.FalsePositives, run.TrueNegatives, run.FalseNegatives) = hasTest
                ? (metrics.TruePositives, metrics.FalsePositives, metrics.TrueNegatives, metrics.FalseNegatives)
                : ((int?)null, (int?)null, (int?)null, (int?)null);
            run.ModelPath = paths.Relative(modelFile);
            run.ModelBytes = new FileInfo(modelFile).Length;
            await using (var stream = File.OpenRead(modelFile))
                run.ModelSha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
            run.Status = RunStatus.Succeeded;
            run.FinishedAt = clock.GetUtcNow();
            run.Message = null;
            await context.SaveChangesAsync();
        }

        // The test photos it got wrong, as the model saw them: the gallery survives the photos' deletion.
        foreach (var mistake in outcome.Test.Mistakes)
        {
            var file = paths.RunTestImage(runId, rowByPath[mistake.Path].Id);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllBytesAsync(file, Thumbnails.Jpeg(images.Pixels(indexByPath[mistake.Path]), images.Size, images.Size * images.Views));
        }
        events.Publish(new RunStatusMessage(runId, RunStatus.Succeeded, null));
    }

    async Task FinishAsync(int runId, RunStatus status, string message)
    {
        try
        {
            var context = await contexts.CreateDbContextAsync();
            await using (context)
            {
                var now = clock.GetUtcNow();
                await context.TrainingRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(u => u
                    .SetProperty(r => r.Status, status)
                    .SetProperty(r => r.Message, message)
                    .SetProperty(r => r.FinishedAt, now));
            }
        }
#pragma warning disable CA1031 // The start-up recovery marks a run left Running as Interrupted; nothing more can be done here.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogError(e, "Could not record run {RunId} as {Status}", runId, status);
        }
        events.Publish(new RunStatusMessage(runId, status, message));
    }

    /// <summary>Writes each epoch as it ends, and passes progress to the notifier (batches at a bounded rate).</summary>
    sealed class RunRecorder(IDbContextFactory<HappySadDbContext> contexts, RunEvents events, int progressIntervalMilliseconds, int runId) : ITrainingCallback
    {
        readonly Stopwatch _sinceLastBatchMessage = Stopwatch.StartNew();
        volatile BatchProgress? _last;

        /// <summary>Where the run got to, for the notes of a cancelled or interrupted run.</summary>
        public string Where => _last is { } last
            ? string.Create(CultureInfo.InvariantCulture, $"during epoch {last.Epoch}, batch {last.Batch} of {last.BatchesPerEpoch}")
            : "before the first batch";

        int _epochs;

        public void OnTrainBegin(TrainingContext context) => _epochs = context.Options.Epochs;

        public void OnBatchEnd(BatchProgress progress, TrainingContext context)
        {
            _last = progress;
            if (progress.Batch != progress.BatchesPerEpoch && progress.Batch != 1 && _sinceLastBatchMessage.ElapsedMilliseconds < progressIntervalMilliseconds)
                return;
            _sinceLastBatchMessage.Restart();
            events.Publish(new BatchProgressMessage(runId, progress.Epoch, _epochs, progress.Batch, progress.BatchesPerEpoch, progress.Loss));
        }

        public void OnEpochEnd(EpochMetrics metrics, TrainingContext context)
        {
            using (var db = contexts.CreateDbContext())
            {
                db.RunEpochs.Add(new RunEpoch
                {
                    RunId = runId,
                    Epoch = metrics.Epoch,
                    Loss = metrics.Loss,
                    Accuracy = metrics.Accuracy,
                    ValLoss = metrics.ValLoss,
                    ValAccuracy = metrics.ValAccuracy,
                    Seconds = metrics.Seconds,
                });
                db.SaveChanges();
            }
            events.Publish(new EpochCompletedMessage(runId, metrics.Epoch, _epochs, metrics.Loss, metrics.Accuracy, metrics.ValLoss, metrics.ValAccuracy, metrics.Seconds));
        }
    }
}
