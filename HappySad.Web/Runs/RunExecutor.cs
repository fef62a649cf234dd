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
        var epochs = recorder.Epochs(runId, start.Number);
        // The watch's two signals: a cancel recorded on the run (its notification may never have
        // arrived), and this attempt closed by another worker that took the run over.
        using var cancelled = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var takenOver = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancelled.Token, stopping, takenOver.Token);
        using var endWatch = new CancellationTokenSource();
        var watch = attempt.WatchEvery is { } every
            ? WatchAsync(runId, start.Number, every, cancelled, takenOver, endWatch.Token)
            : Task.CompletedTask;
        RunStatus? status = null; // stays null when the run is handed back to the queue, or taken over
        try
        {
            status = await TrainAndRecordAsync(runId, start.Number, folder, [epochs, new ResumeLog(logger, recorder, runId, start.Number), .. callbacks], epochs, attempt, cancelled.Token, stopping, takenOver.Token, linked.Token);
            return status.Value;
        }
        catch (AttemptTakenOverException)
        {
            logger.LogWarning("Run {RunId} was taken over by another worker; {Worker} stops attempt {Attempt} {Where} and records nothing more", runId, attempt.Worker, start.Number, epochs.Where);
            throw;
        }
        finally
        {
            await endWatch.CancelAsync();
            await watch;
            // The checkpoint outlives only what can be taken up again: a dashboard run stopped or handed back.
            if (status is { } ended && (ended != RunStatus.Interrupted || folder is not null))
                DeleteCheckpoint(runId);
            // Every other ending closed the attempt as it recorded the run's status (one taken over was closed by the worker that took it).
            if (status is null)
                await recorder.EndAttemptAsync(runId, start.Number, $"handed back when {attempt.Worker} stopped, {epochs.Where}");
        }
    }

    /// <summary>
    /// Until <paramref name="end"/>: every <paramref name="every"/>, reads whether the run was
    /// cancelled and whether this attempt still holds it. A worker's only other news of either is a
    /// notification, which a dropped connection loses, or the next epoch's write.
    /// </summary>
    async Task WatchAsync(int runId, int number, TimeSpan every, CancellationTokenSource cancelled, CancellationTokenSource takenOver, CancellationToken end)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(end))
            {
                try
                {
                    var (holds, cancelRequested) = await recorder.CheckAsync(runId, number, end);
                    if (!holds)
                    {
                        await takenOver.CancelAsync();
                        return;
                    }
                    if (cancelRequested && !cancelled.IsCancellationRequested)
                    {
                        logger.LogInformation("Stopping run {RunId}: its cancel is recorded", runId);
                        await cancelled.CancelAsync();
                    }
                }
                catch (OperationCanceledException) when (end.IsCancellationRequested)
                {
                    return;
                }
#pragma warning disable CA1031 // The database gone for a moment: the next tick asks again; the run's own writes will fail loudly if it stays gone.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    logger.LogWarning(e, "Could not check run {RunId} for a cancel or a take-over", runId);
                }
            }
        }
        catch (OperationCanceledException) when (end.IsCancellationRequested)
        {
        }
    }

    /// <summary>Whether the attempt still holds its run; true when the database cannot say.</summary>
    async Task<bool> HoldsAsync(int runId, int number)
    {
        try
        {
            return (await recorder.CheckAsync(runId, number)).Holds;
        }
#pragma warning disable CA1031 // Only decides which note the log gets; the run is left as it is either way.
        catch (Exception)
#pragma warning restore CA1031
        {
            return true;
        }
    }

    async Task<RunStatus> TrainAndRecordAsync(int runId, int number, string? folder, IReadOnlyList<ITrainingCallback> callbacks, EpochRecorder epochs, RunAttemptOptions attempt, CancellationToken cancel, CancellationToken stopping, CancellationToken takenOver, CancellationToken any)
    {
        try
        {
            await TrainAsync(runId, number, folder, callbacks, any);
            logger.LogInformation("Run {RunId} succeeded", runId);
            return RunStatus.Succeeded;
        }
        catch (OperationCanceledException) when (takenOver.IsCancellationRequested)
        {
            throw new AttemptTakenOverException(runId, number);
        }
        catch (AttemptTakenOverException)
        {
            throw;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await recorder.FinishAsync(runId, RunStatus.Cancelled, RunErrors.Cancelled(epochs.Where), number);
            logger.LogInformation("Run {RunId} cancelled {Where}", runId, epochs.Where);
            return RunStatus.Cancelled;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && attempt.HandBackOnStop)
        {
            // The queue also stops a job it gave to another worker, which took the run over.
            if (!await HoldsAsync(runId, number))
                throw new AttemptTakenOverException(runId, number);
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
        catch (DirectoryNotFoundException)
        {
            // The run stopped before it wrote one: nothing to delete.
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
        var rows = await recorder.RecordSnapshotAsync(snapshot, load, split, attempt, cancellationToken);

        var outcome = await TrainingPipeline.RunAsync(images, recipe, callbacks, snapshot.Directory, paths.RunCheckpoint(runId), cancellationToken);
        using var classifier = outcome.Classifier;
        var modelFile = paths.RunModel(runId);
        // The model file is the run's, not the attempt's: one taken over leaves it to the attempt that took it.
        await recorder.EnsureHeldAsync(runId, attempt, cancellationToken);
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
