using HappySad.Training.Persistence;
using HappySad.Training.Pretrained;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.Storage;

namespace HappySad.Web.Runs;

/// <summary>
/// Executes one queued run from start to finish: <see cref="RunSnapshot"/> takes and decodes what it
/// trains on, the trainer trains, and <see cref="RunRecorder"/> records every step as it happens.
/// Used by the dashboard's worker and by <c>train --record</c> alike, so both leave the same record.
/// A dashboard run keeps a checkpoint after each epoch (<see cref="StoragePaths.RunCheckpoint"/>): run
/// again after a stop or a crash, it goes on from there with the photos it started with.
/// </summary>
public sealed class RunExecutor(RunSnapshot snapshots, RunRecorder recorder, RunEvents events, StoragePaths paths, ILogger<RunExecutor> logger)
{
    /// <summary>
    /// Runs <paramref name="runId"/> if it is still queued (or, for a worker that may take over, left
    /// Running by a worker that died). <paramref name="cancel"/> is a person's cancel (recorded as
    /// Cancelled); <paramref name="stopping"/> is the process stopping (recorded as Interrupted, or
    /// handed back to the queue). <paramref name="folder"/> is the class-folder data of a
    /// command-line run. Never throws for a failed run: the failure is recorded on the run.
    /// </summary>
    public async Task<RunStatus> ExecuteAsync(int runId, string? folder, IReadOnlyList<ITrainingCallback> callbacks, CancellationToken cancel, CancellationToken stopping, RunAttemptOptions? attempt = null)
    {
        ArgumentNullException.ThrowIfNull(callbacks);
        attempt ??= RunAttemptOptions.ThisProcess;
        if (await recorder.StartAsync(runId, attempt) is not { } start)
            return RunStatus.Cancelled;
        logger.LogInformation("Run {RunId} attempt {Attempt} started on {Worker}", runId, start.Number, attempt.Worker);
        var epochs = recorder.Epochs(runId);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, stopping);
        RunStatus? status = null; // stays null when the run is handed back to the queue
        try
        {
            status = await TrainAndRecordAsync(runId, start.Number, folder, [epochs, new ResumeLog(logger, recorder, runId, start.Number), .. callbacks], epochs, attempt, cancel, stopping, linked.Token);
            return status.Value;
        }
        finally
        {
            // The checkpoint outlives only what can be taken up again: a dashboard run stopped or handed back.
            if (status is { } ended && (ended != RunStatus.Interrupted || folder is not null))
                DeleteCheckpoint(runId);
            // Every other ending closed the attempt as it recorded the run's status.
            if (status is null)
                await recorder.EndAttemptAsync(runId, start.Number, $"handed back when {attempt.Worker} stopped, {epochs.Where}");
        }
    }

    async Task<RunStatus> TrainAndRecordAsync(int runId, int number, string? folder, IReadOnlyList<ITrainingCallback> callbacks, EpochRecorder epochs, RunAttemptOptions attempt, CancellationToken cancel, CancellationToken stopping, CancellationToken either)
    {
        try
        {
            await TrainAsync(runId, number, folder, callbacks, either);
            logger.LogInformation("Run {RunId} succeeded", runId);
            return RunStatus.Succeeded;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await recorder.FinishAsync(runId, RunStatus.Cancelled, RunErrors.Cancelled(epochs.Where), number);
            logger.LogInformation("Run {RunId} cancelled {Where}", runId, epochs.Where);
            return RunStatus.Cancelled;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && attempt.HandBackOnStop)
        {
            // Still Running: the queue hands the run to the next worker, which resumes it from the checkpoint.
            logger.LogWarning("Run {RunId} handed back to the queue: {Worker} is stopping {Where}", runId, attempt.Worker, epochs.Where);
            throw;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await recorder.FinishAsync(runId, RunStatus.Interrupted, RunErrors.Interrupted(epochs.Where, resumes: folder is null), number);
            logger.LogWarning("Run {RunId} interrupted by shutdown {Where}", runId, epochs.Where);
            return RunStatus.Interrupted;
        }
#pragma warning disable CA1031 // A failed run is recorded with its error; the worker goes on with the next one.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogError(e, "Run {RunId} failed {Where}", runId, epochs.Where);
            await recorder.FinishAsync(runId, RunStatus.Failed, RunErrors.Describe(e), number);
            return RunStatus.Failed;
        }
    }

    void DeleteCheckpoint(int runId)
    {
        try
        {
            File.Delete(paths.RunCheckpoint(runId));
        }
        catch (IOException e)
        {
            logger.LogWarning(e, "Could not delete the checkpoint of finished run {RunId}", runId);
        }
    }

    async Task TrainAsync(int runId, int attempt, string? folder, IReadOnlyList<ITrainingCallback> callbacks, CancellationToken cancellationToken)
    {
        var snapshot = await snapshots.TakeAsync(runId, folder, cancellationToken);
        var reporter = new PreparationReporter(events, runId, snapshot.Entries.Count);
        var load = await snapshots.DecodeAsync(snapshot, reporter, cancellationToken, fetching: reporter);
        if (load.Cache is { } cache)
            logger.LogInformation("Run {RunId} trains from {Cache} ({How})", runId, cache.Path,
                cache.Reused ? "reused" : cache.RebuiltBecause is { } why ? $"rebuilt: {why}" : "built");
        foreach (var rejected in load.Rejected)
            logger.LogWarning("Run {RunId} skips {Path}: {Reason}", runId, rejected.Path, rejected.Reason);
        load = load with { Images = RunSnapshot.Grouped(snapshot, load.Images, cancellationToken) };
        var images = load.Images;
        TrainingPipeline.EnsureTrainable(images);

        var recipe = snapshot.Run.Recipe;
        var split = recipe.Split(images);
        var rows = await recorder.RecordSnapshotAsync(snapshot, load, split, cancellationToken);

        var outcome = await TrainingPipeline.RunAsync(images, recipe, callbacks, snapshot.Directory, paths.RunCheckpoint(runId), cancellationToken);
        using var classifier = outcome.Classifier;
        var modelFile = paths.RunModel(runId);
        ModelStore.Save(modelFile, classifier.Module, classifier.Card);
        await recorder.RecordSuccessAsync(runId, outcome, modelFile, images, rows, attempt);
    }
}

/// <summary>
/// As the fit begins: records the epoch this attempt really starts from, and logs whether it goes on
/// from a checkpoint or why a checkpoint there was not used.
/// </summary>
file sealed class ResumeLog(ILogger logger, RunRecorder recorder, int runId, int attempt) : ITrainingCallback
{
    public void OnTrainBegin(TrainingContext context)
    {
        recorder.RecordAttemptStart(runId, attempt, context.ResumedAfterEpoch + 1);
        if (context.ResumedAfterEpoch > 0)
            logger.LogInformation("Run {RunId} resumes after epoch {Epoch} from its checkpoint", runId, context.ResumedAfterEpoch);
        if (context.CheckpointIgnored is { } reason)
            logger.LogWarning("Run {RunId} starts from epoch 1: its checkpoint is ignored because {Reason}", runId, reason);
    }
}

/// <summary>
/// Tells the run's watchers how far decoding has come, and before it the download of any pretrained
/// weights this machine lacks (in megabytes), at most every quarter second (a 50,000-photo snapshot
/// would otherwise send 50,000 messages), and always the last photo and the last byte.
/// </summary>
file sealed class PreparationReporter(RunEvents events, int runId, int total) : IProgress<int>, IProgress<DownloadProgress>
{
    static readonly long Interval = System.Diagnostics.Stopwatch.Frequency / 4;
    long _next;

    public void Report(int value)
    {
        if (Due(last: value >= total))
            events.Publish(new PreparationProgressMessage(runId, value, total));
    }

    public void Report(DownloadProgress value)
    {
        static int Megabytes(long bytes) => (int)Math.Round(bytes / 1e6);
        var (megabytes, of) = (Megabytes(value.Bytes), value.TotalBytes is { } bytes ? Megabytes(bytes) : 0);
        if (Due(last: value.Bytes == value.TotalBytes))
            events.Publish(new PreparationProgressMessage(runId, megabytes, of) { Fetching = value.Package });
    }

    bool Due(bool last)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        var next = Interlocked.Read(ref _next);
        return last || (now >= next && Interlocked.CompareExchange(ref _next, now + Interval, next) == next);
    }
}
