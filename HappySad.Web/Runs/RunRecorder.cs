using System.Security.Cryptography;
using HappySad.Training.Data;
using HappySad.Training.Native;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Runs;

/// <summary>
/// Writes what happens to a run as it happens: its status changes (each also told to
/// <see cref="RunEvents"/>), its snapshot and split, each epoch (through <see cref="EpochRecorder"/>)
/// and its outcome.
/// </summary>
public sealed class RunRecorder(
    IDbContextFactory<HappySadDbContext> contexts,
    StoragePaths paths,
    RunEvents events,
    IOptions<TrainingOptions> options,
    TimeProvider clock,
    ILogger<RunRecorder> logger)
{
    /// <summary>
    /// Marks the run Running if it is still queued (a first start, or a run queued again to resume after a stop), as the next attempt by <paramref name="attempt"/>'s worker.
    /// With <see cref="RunAttemptOptions.TakeOver"/>, a run left Running by a worker that died becomes
    /// the next attempt (or Cancelled, when someone asked it to stop meanwhile). Null when the run is
    /// not there to start: a cancel got there first, or it finished.
    /// </summary>
    /// <remarks>
    /// All in one transaction that holds the run's row (<see cref="BeginAsync"/>): an attempt's every
    /// write takes the same row first (<see cref="ClaimAsync"/>), so a write of the lost worker's in
    /// flight (it may only be paused) either commits before this reads the run, and is counted, or
    /// finds its attempt closed and changes nothing. Closing the lost attempt is what fences it off.
    /// </remarks>
    public async Task<RunAttemptStart?> StartAsync(int runId, RunAttemptOptions attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        RunAttemptStart start;
        var context = await contexts.CreateDbContextAsync();
        await using (context)
        {
            var now = clock.GetUtcNow();
            // A worker frozen inside one of its writes holds the run's row: give up after a while, and the
            // queue tries again (the job fails, and the web node's sweep queues the run again).
            await using var transaction = await BeginAsync(context, runId, lockTimeout: TimeSpan.FromSeconds(15));
            var run = await context.TrainingRuns.FirstOrDefaultAsync(r => r.Id == runId);
            if (run is null)
                return null;
            var attempts = await context.RunAttempts.Where(a => a.RunId == runId).ToListAsync();
            var open = attempts.Where(a => a.EndedAt is null).ToList();
            var finishedEpochs = attempts.Count == 0 ? 0 : await context.RunEpochs.CountAsync(e => e.RunId == runId);
            if (run.Status == RunStatus.Queued)
            {
                // Only a run that is still queued starts: a cancel that got there first wins. A run queued
                // again after this app stopped: the attempt that was cut off ends here.
                foreach (var cut in open)
                    (cut.EndedAt, cut.Outcome) = (now, "interrupted");
                run.Status = RunStatus.Running;
                run.StartedAt ??= now;
            }
            else if (attempt.TakeOver && run is { Status: RunStatus.Running, Source: RunSource.Dashboard })
            {
                foreach (var lost in open)
                    (lost.EndedAt, lost.Outcome) = (now, $"worker lost after {finishedEpochs} epoch{(finishedEpochs == 1 ? "" : "s")}");
                if (run.CancelRequestedAt is not null)
                {
                    var message = $"Cancelled while its worker was lost, after {finishedEpochs} of {run.Recipe.Epochs} epochs.";
                    (run.Status, run.Message, run.FinishedAt) = (RunStatus.Cancelled, message, now);
                    await context.SaveChangesAsync();
                    await transaction.CommitAsync();
                    events.Publish(new RunStatusMessage(runId, RunStatus.Cancelled, message));
                    return null;
                }
            }
            else
            {
                return null;
            }
            run.ProcessId = Environment.ProcessId;
            start = new RunAttemptStart(attempts.Select(a => a.Number).DefaultIfEmpty(0).Max() + 1, finishedEpochs + 1);
            context.RunAttempts.Add(new RunAttempt { RunId = runId, Number = start.Number, Worker = attempt.Worker, StartedAt = now, FromEpoch = start.FromEpoch });
            await context.SaveChangesAsync();
            await transaction.CommitAsync();
        }
        events.Publish(new RunStatusMessage(runId, RunStatus.Running, start.IsResumption
            ? $"Resumed on {attempt.Worker} (attempt {start.Number})"
            : "Preparing photos"));
        return start;
    }

    /// <summary>
    /// The epoch attempt <paramref name="number"/> really starts from, once the trainer has read the
    /// checkpoint (an epoch recorded just before a crash, whose checkpoint was not written, is run again).
    /// </summary>
    public void RecordAttemptStart(int runId, int number, int fromEpoch)
    {
        using var context = contexts.CreateDbContext();
        context.RunAttempts.Where(a => a.RunId == runId && a.Number == number).ExecuteUpdate(u => u.SetProperty(a => a.FromEpoch, fromEpoch));
    }

    /// <summary>
    /// Closes the attempt with how it ended, unless it is closed already (another worker took the run
    /// over and said why). Never throws: a missing outcome only leaves the attempt open.
    /// </summary>
    public async Task EndAttemptAsync(int runId, int number, string outcome)
    {
        try
        {
            var context = await contexts.CreateDbContextAsync();
            await using (context)
            {
                var now = clock.GetUtcNow();
                await context.RunAttempts.Where(a => a.RunId == runId && a.Number == number && a.EndedAt == null)
                    .ExecuteUpdateAsync(u => u.SetProperty(a => a.EndedAt, now).SetProperty(a => a.Outcome, outcome));
            }
        }
#pragma warning disable CA1031 // The attempt's end is a note; the run's own status is what counts.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogWarning(e, "Could not record how attempt {Number} of run {RunId} ended", number, runId);
        }
    }

    /// <summary>The trainer's callback that records the epochs of attempt <paramref name="number"/> of run <paramref name="runId"/>.</summary>
    public EpochRecorder Epochs(int runId, int number) => new(contexts, events, options.Value.ProgressIntervalMilliseconds, runId, number);

    /// <summary>
    /// Whether attempt <paramref name="number"/> still holds run <paramref name="runId"/> (its attempt
    /// is open: no other worker took the run over), and whether someone asked the run to stop.
    /// </summary>
    public async Task<(bool Holds, bool CancelRequested)> CheckAsync(int runId, int number, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var state = await context.TrainingRuns.Where(r => r.Id == runId)
                .Select(r => new { Holds = r.Attempts.Any(a => a.Number == number && a.EndedAt == null), Cancel = r.CancelRequestedAt != null })
                .FirstOrDefaultAsync(cancellationToken);
            return state is null ? (false, false) : (state.Holds, state.Cancel);
        }
    }

    /// <summary>Throws <see cref="AttemptTakenOverException"/> unless attempt <paramref name="number"/> still holds the run.</summary>
    public async Task EnsureHeldAsync(int runId, int number, CancellationToken cancellationToken = default)
    {
        if (!(await CheckAsync(runId, number, cancellationToken)).Holds)
            throw new AttemptTakenOverException(runId, number);
    }

    /// <summary>
    /// Begins a transaction that holds run <paramref name="runId"/>'s row until it ends: the one lock
    /// that orders a run's attempts and their writes (SQLite's write lock does the same for the whole
    /// file). On PostgreSQL a session left idle inside it (a frozen worker) is ended by the server
    /// after a minute, so its lock cannot outlive it; <paramref name="lockTimeout"/> bounds the wait for the row.
    /// </summary>
    internal static async Task<IDbContextTransaction> BeginAsync(HappySadDbContext context, int runId, TimeSpan? lockTimeout = null, CancellationToken cancellationToken = default)
    {
        var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            if (context.Database.IsNpgsql())
            {
                await context.Database.ExecuteSqlRawAsync("SET LOCAL idle_in_transaction_session_timeout = '60s'", cancellationToken);
                if (lockTimeout is { } timeout)
                    await context.Database.ExecuteSqlAsync($"SELECT set_config('lock_timeout', {$"{(int)timeout.TotalMilliseconds}ms"}, true)", cancellationToken);
            }
            await context.TrainingRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(u => u.SetProperty(r => r.ProcessId, r => r.ProcessId), cancellationToken);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc cref="BeginAsync"/>
    internal static IDbContextTransaction Begin(HappySadDbContext context, int runId)
    {
        var transaction = context.Database.BeginTransaction();
        try
        {
            if (context.Database.IsNpgsql())
                context.Database.ExecuteSqlRaw("SET LOCAL idle_in_transaction_session_timeout = '60s'");
            context.TrainingRuns.Where(r => r.Id == runId).ExecuteUpdate(u => u.SetProperty(r => r.ProcessId, r => r.ProcessId));
            return transaction;
        }
        catch
        {
            transaction.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A transaction for a write of attempt <paramref name="number"/> (<see cref="BeginAsync"/>); throws
    /// <see cref="AttemptTakenOverException"/> when the attempt is closed: another worker took the run
    /// over. Every write an attempt makes to its run goes through this, so a worker that lost its claim
    /// (paused past the invisibility timeout) and woke up changes nothing the next attempt owns.
    /// </summary>
    internal static async Task<IDbContextTransaction> ClaimAsync(HappySadDbContext context, int runId, int number, CancellationToken cancellationToken = default)
    {
        var transaction = await BeginAsync(context, runId, cancellationToken: cancellationToken);
        if (await Open(context, runId, number).AnyAsync(cancellationToken))
            return transaction;
        await transaction.DisposeAsync();
        throw new AttemptTakenOverException(runId, number);
    }

    /// <inheritdoc cref="ClaimAsync"/>
    internal static IDbContextTransaction Claim(HappySadDbContext context, int runId, int number)
    {
        var transaction = Begin(context, runId);
        if (Open(context, runId, number).Any())
            return transaction;
        transaction.Dispose();
        throw new AttemptTakenOverException(runId, number);
    }

    /// <summary>The attempt's row while it is open.</summary>
    internal static IQueryable<RunAttempt> Open(HappySadDbContext context, int runId, int number) =>
        context.RunAttempts.Where(a => a.RunId == runId && a.Number == number && a.EndedAt == null);

    /// <summary>Closes attempt <paramref name="number"/> with <paramref name="outcome"/> inside the transaction that records how the run ended.</summary>
    async Task CloseAsync(HappySadDbContext context, int runId, int number, string outcome)
    {
        var now = clock.GetUtcNow();
        await Open(context, runId, number).ExecuteUpdateAsync(u => u.SetProperty(a => a.EndedAt, now).SetProperty(a => a.Outcome, outcome));
    }

    /// <summary>
    /// Stores the images the run decoded with their split and near-duplicate group, and the snapshot's summary on the run
    /// (once: a resumed run gets the rows of its first attempt). Returns the image rows in the order of the decoded images.
    /// </summary>
    public async Task<List<RunImage>> RecordSnapshotAsync(Snapshot snapshot, ImageFolderLoad load, DataSplit split, int attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(split);
        var run = snapshot.Run;
        var images = load.Images;
        var byPath = snapshot.Entries.ToDictionary(e => e.FullPath, StringComparer.Ordinal);
        var splitOf = new RunSplit[images.Count];
        foreach (var i in split.Validation)
            splitOf[i] = RunSplit.Validation;
        foreach (var i in split.Test)
            splitOf[i] = RunSplit.Test;
        // A group is named by the position of its first image in the snapshot, whatever ids the groups had.
        var firstOf = new Dictionary<int, int>();
        for (var i = images.Count - 1; i >= 0; i--)
            firstOf[images.Groups[i]] = i;
        var shared = images.Groups.GroupBy(g => g).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var rows = Enumerable.Range(0, images.Count).Select(i =>
        {
            var entry = byPath[images.Paths[i]];
            return new RunImage { RunId = run.Id, PhotoId = entry.PhotoId, Path = entry.RelativePath, Name = entry.Name, Sha256 = entry.Sha256, Label = images.Labels[i], Split = splitOf[i], Group = shared.Contains(images.Groups[i]) ? firstOf[images.Groups[i]] : null };
        }).ToList();
        var duplicates = NearDuplicateSummary.Of(images.Labels, images.Groups);
        var hash = RunSnapshot.Hash(rows.Select(r => (snapshot.ClassNames[r.Label], r.Sha256)));

        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            await using var transaction = await ClaimAsync(context, run.Id, attempt, cancellationToken);
            // A resumed run recorded its snapshot on its first attempt, and decoded the same photos again.
            var recorded = await context.RunImages.Where(i => i.RunId == run.Id).OrderBy(i => i.Id).ToListAsync(cancellationToken);
            if (recorded.Count > 0)
            {
                return recorded.Select(r => r.Sha256).SequenceEqual(rows.Select(r => r.Sha256))
                    ? recorded
                    : throw new DataSetException($"the run cannot go on: the {recorded.Count} photos it started with are no longer all there ({rows.Count} decode now)");
            }
            context.RunImages.AddRange(rows);
            var tracked = await context.TrainingRuns.SingleAsync(r => r.Id == run.Id, cancellationToken);
            tracked.ClassNames = [.. snapshot.ClassNames];
            tracked.SnapshotHash = hash;
            tracked.TrainImages = split.Train.Count;
            tracked.ValidationImages = split.Validation.Count;
            tracked.TestImages = split.Test.Count;
            tracked.SkippedImages = load.Rejected.Count;
            tracked.FacesFound = load.FacesFound;
            tracked.NearDuplicateGroups = duplicates.Groups;
            tracked.NearDuplicatePhotos = duplicates.Photos;
            tracked.LabelConflicts = duplicates.Conflicts;
            tracked.Device = TorchDevices.Resolve(run.Recipe.Device).type.ToString().ToLowerInvariant();
            await context.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return rows;
    }

    /// <summary>Records a finished run: its model file, test metrics, each test image's verdict, and the test images it got wrong.</summary>
    public async Task RecordSuccessAsync(int runId, TrainingOutcome outcome, string modelFile, ImageSet images, List<RunImage> rows, int attempt)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(rows);
        var rowByPath = new Dictionary<string, RunImage>(StringComparer.Ordinal);
        for (var i = 0; i < images.Count; i++)
            rowByPath[images.Paths[i]] = rows[i];
        var indexByPath = Enumerable.Range(0, images.Count).ToDictionary(i => images.Paths[i], StringComparer.Ordinal);

        // The test photos it got wrong, as the model saw them: the gallery survives the photos' deletion.
        // Written before the run reads as Succeeded, each under a temporary name first, so a page on
        // any node that shows the gallery never finds an image missing or half written.
        foreach (var mistake in outcome.Test.Mistakes)
        {
            var file = paths.RunTestImage(runId, rowByPath[mistake.Path].Id);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            // A name of its own: an attempt that lost the run may be writing the same image.
            var temporary = $"{file}.{Guid.NewGuid():N}.tmp";
            await File.WriteAllBytesAsync(temporary, Thumbnails.Jpeg(images.Pixels(indexByPath[mistake.Path]), images.Size, images.Size * images.Views));
            File.Move(temporary, file, overwrite: true);
        }

        string modelSha256;
        await using (var stream = File.OpenRead(modelFile))
            modelSha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
        var context = await contexts.CreateDbContextAsync();
        await using (context)
        {
            await using var transaction = await ClaimAsync(context, runId, attempt);
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
            run.ModelSha256 = modelSha256;
            run.Status = RunStatus.Succeeded;
            run.FinishedAt = clock.GetUtcNow();
            run.Message = null;
            await context.SaveChangesAsync();
            await CloseAsync(context, runId, attempt, "succeeded");
            await transaction.CommitAsync();
        }

        events.Publish(new RunStatusMessage(runId, RunStatus.Succeeded, null));
    }

    /// <summary>
    /// Records how a run that made no model ended. Throws only <see cref="AttemptTakenOverException"/>,
    /// when <paramref name="attempt"/> no longer holds the run (it records nothing then); a run it cannot
    /// record otherwise stays Running until the next start-up's recovery (or, on workers, the web node's sweep).
    /// </summary>
    /// <param name="attempt">The attempt that ends with the run, closed with it, before anyone hears how the run ended.</param>
    public async Task FinishAsync(int runId, RunStatus status, string message, int? attempt = null)
    {
        try
        {
            var context = await contexts.CreateDbContextAsync();
            await using (context)
            {
                var now = clock.GetUtcNow();
                await using var transaction = attempt is { } held ? await ClaimAsync(context, runId, held) : await BeginAsync(context, runId);
                await context.TrainingRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(u => u
                    .SetProperty(r => r.Status, status)
                    .SetProperty(r => r.Message, message)
                    .SetProperty(r => r.FinishedAt, now));
                if (attempt is { } number)
                    await CloseAsync(context, runId, number, status.ToString().ToLowerInvariant());
                await transaction.CommitAsync();
            }
        }
        catch (AttemptTakenOverException)
        {
            throw;
        }
#pragma warning disable CA1031 // The start-up recovery marks a run left Running as Interrupted; nothing more can be done here.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogError(e, "Could not record run {RunId} as {Status}", runId, status);
        }
        events.Publish(new RunStatusMessage(runId, status, message));
    }
}
