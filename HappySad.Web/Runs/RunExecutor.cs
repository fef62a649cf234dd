using HappySad.Training.Data;
using HappySad.Training.Persistence;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.Storage;

namespace HappySad.Web.Runs;

/// <summary>
/// Executes one queued run from start to finish: <see cref="RunSnapshot"/> takes and decodes what it
/// trains on, the trainer trains, and <see cref="RunRecorder"/> records every step as it happens.
/// Used by the dashboard's worker and by <c>train --record</c> alike, so both leave the same record.
/// </summary>
public sealed class RunExecutor(RunSnapshot snapshots, RunRecorder recorder, StoragePaths paths, ILogger<RunExecutor> logger)
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
        logger.LogInformation("Run {RunId} attempt {Attempt} started on {Worker} from epoch {FromEpoch}", runId, start.Number, attempt.Worker, start.FromEpoch);
        var epochs = recorder.Epochs(runId);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, stopping);
        var status = RunStatus.Failed;
        try
        {
            await TrainAsync(runId, folder, [epochs, .. callbacks], linked.Token);
            logger.LogInformation("Run {RunId} succeeded", runId);
            return status = RunStatus.Succeeded;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await recorder.FinishAsync(runId, RunStatus.Cancelled, RunErrors.Cancelled(epochs.Where));
            logger.LogInformation("Run {RunId} cancelled {Where}", runId, epochs.Where);
            return status = RunStatus.Cancelled;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && attempt.HandBackOnStop)
        {
            // Still Running: the queue hands the run to the next worker, which resumes it.
            logger.LogWarning("Run {RunId} handed back to the queue: {Worker} is stopping {Where}", runId, attempt.Worker, epochs.Where);
            status = RunStatus.Queued;
            throw;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await recorder.FinishAsync(runId, RunStatus.Interrupted, RunErrors.Interrupted(epochs.Where));
            logger.LogWarning("Run {RunId} interrupted by shutdown {Where}", runId, epochs.Where);
            return status = RunStatus.Interrupted;
        }
#pragma warning disable CA1031 // A failed run is recorded with its error; the worker goes on with the next one.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogError(e, "Run {RunId} failed {Where}", runId, epochs.Where);
            await recorder.FinishAsync(runId, RunStatus.Failed, RunErrors.Describe(e));
            return status = RunStatus.Failed;
        }
        finally
        {
            await recorder.EndAttemptAsync(runId, start.Number, status == RunStatus.Queued
                ? $"handed back when {attempt.Worker} stopped, {epochs.Where}"
                : status.ToString().ToLowerInvariant());
        }
    }

    async Task TrainAsync(int runId, string? folder, IReadOnlyList<ITrainingCallback> callbacks, CancellationToken cancellationToken)
    {
        var snapshot = await snapshots.TakeAsync(runId, folder, cancellationToken);
        var load = await RunSnapshot.DecodeAsync(snapshot, cancellationToken);
        foreach (var rejected in load.Rejected)
            logger.LogWarning("Run {RunId} skips {Path}: {Reason}", runId, rejected.Path, rejected.Reason);
        var images = load.Images;
        TrainingPipeline.EnsureTrainable(images);

        var recipe = snapshot.Run.Recipe;
        var split = DataSplit.Stratified(images.Labels, recipe.ToSplit(), recipe.Seed);
        var rows = await recorder.RecordSnapshotAsync(snapshot, load, split, cancellationToken);

        var outcome = await TrainingPipeline.RunAsync(images, recipe, callbacks, snapshot.Directory, cancellationToken);
        using var classifier = outcome.Classifier;
        var modelFile = paths.RunModel(runId);
        ModelStore.Save(modelFile, classifier.Module, classifier.Card);
        await recorder.RecordSuccessAsync(runId, outcome, modelFile, images, rows);
    }
}
