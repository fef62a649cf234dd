using System.Security.Cryptography;
using HappySad.Training.Data;
using HappySad.Training.Native;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
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
    public async Task<RunAttemptStart?> StartAsync(int runId, RunAttemptOptions attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        RunAttemptStart start;
        var context = await contexts.CreateDbContextAsync();
        await using (context)
        {
            var now = clock.GetUtcNow();
            // Only a run that is still queued starts: a cancel that got there first wins.
            var started = await context.TrainingRuns
                .Where(r => r.Id == runId && r.Status == RunStatus.Queued)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(r => r.Status, RunStatus.Running)
                    .SetProperty(r => r.StartedAt, r => r.StartedAt ?? now)
                    .SetProperty(r => r.ProcessId, Environment.ProcessId));
            if (started > 0)
            {
                // A run queued again after this app stopped: the attempt that was cut off ends here.
                var previous = await context.RunAttempts.Where(a => a.RunId == runId).ToListAsync();
                foreach (var open in previous.Where(a => a.EndedAt is null))
                    (open.EndedAt, open.Outcome) = (now, "interrupted");
                var finishedEpochs = previous.Count == 0 ? 0 : await context.RunEpochs.CountAsync(e => e.RunId == runId);
                start = new RunAttemptStart(previous.Count + 1, finishedEpochs + 1);
            }
            else
            {
                var run = await context.TrainingRuns.Include(r => r.Attempts).AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId);
                if (!attempt.TakeOver || run is not { Status: RunStatus.Running, Source: RunSource.Dashboard })
                    return null;
                // Closing the lost worker's attempt is what fences it off: every write it may still make
                // (it may only be paused) needs its attempt open (ClaimAsync). Its row is locked first,
                // so a write of its in flight commits before the epochs are counted, or fails after.
                int finishedEpochs;
                await using (var transaction = await context.Database.BeginTransactionAsync())
                {
                    var open = context.RunAttempts.Where(a => a.RunId == runId && a.EndedAt == null);
                    await open.ExecuteUpdateAsync(u => u.SetProperty(a => a.Outcome, (string?)null));
                    finishedEpochs = await context.RunEpochs.CountAsync(e => e.RunId == runId);
                    var lost = $"worker lost after {finishedEpochs} epoch{(finishedEpochs == 1 ? "" : "s")}";
                    await open.ExecuteUpdateAsync(u => u.SetProperty(a => a.EndedAt, now).SetProperty(a => a.Outcome, lost));
                    await transaction.CommitAsync();
                }
                if (run.CancelRequestedAt is not null)
                {
                    await FinishAsync(runId, RunStatus.Cancelled, $"Cancelled while its worker was lost, after {finishedEpochs} of {run.Recipe.Epochs} epochs.");
                    return null;
                }
                await context.TrainingRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(u => u.SetProperty(r => r.ProcessId, Environment.ProcessId));
                start = new RunAttemptStart(run.Attempts.Count + 1, finishedEpochs + 1);
            }
            context.RunAttempts.Add(new RunAttempt { RunId = runId, Number = start.Number, Worker = attempt.Worker, StartedAt = now, FromEpoch = start.FromEpoch });
            await context.SaveChangesAsync();
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
    /// Inside <paramref name="context"/>'s open transaction: locks attempt <paramref name="number"/>'s row
    /// if it is still open, so a take-over (which closes it) waits for the transaction's writes or
    /// comes before them; throws <see cref="AttemptTakenOverException"/> when it is closed. Every
    /// write an attempt makes to its run goes through this, so a worker that lost its claim (paused
    /// past the invisibility timeout) and woke up again changes nothing the next attempt owns.
    /// </summary>
    internal static async Task ClaimAsync(HappySadDbContext context, int runId, int number, CancellationToken cancellationToken = default)
    {
        if (await Open(context, runId, number).ExecuteUpdateAsync(u => u.SetProperty(a => a.Outcome, (string?)null), cancellationToken) == 0)
            throw new AttemptTakenOverException(runId, number);
    }

    /// <inheritdoc cref="ClaimAsync"/>
    internal static void Claim(HappySadDbContext context, int runId, int number)
    {
        if (Open(context, runId, number).ExecuteUpdate(u => u.SetProperty(a => a.Outcome, (string?)null)) == 0)
            throw new AttemptTakenOverException(runId, number);
    }

    /// <summary>The attempt's row while it is open (an open attempt has no outcome yet).</summary>
    static IQueryable<RunAttempt> Open(HappySadDbContext context, int runId, int number) =>
        context.RunAttempts.Where(a => a.RunId == runId && a.Number == number && a.EndedAt == null);

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
            await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
            await ClaimAsync(context, run.Id, attempt, cancellationToken);
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
            var temporary = file + ".tmp";
            await File.WriteAllBytesAsync(temporary, Thumbnails.Jpeg(images.Pixels(indexByPath[mistake.Path]), images.Size, images.Size * images.Views));
            File.Move(temporary, file, overwrite: true);
        }

        var context = await contexts.CreateDbContextAsync();
        await using (context)
        {
            await using var transaction = await context.Database.BeginTransactionAsync();
            await ClaimAsync(context, runId, attempt);
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
            await transaction.CommitAsync();
        }

        await EndAttemptAsync(runId, attempt, "succeeded");
        events.Publish(new RunStatusMessage(runId, RunStatus.Succeeded, null));
    }

    /// <summary>
    /// Records how a run that made no model ended. Never throws: a run it cannot record stays Running
    /// until the next start-up's recovery. An attempt that another worker took over records nothing.
    /// </summary>
    /// <param name="attempt">The attempt that ends with the run, closed before anyone hears how the run ended.</param>
    public async Task FinishAsync(int runId, RunStatus status, string message, int? attempt = null)
    {
        try
        {
            var context = await contexts.CreateDbContextAsync();
            await using (context)
            {
                var now = clock.GetUtcNow();
                await using var transaction = await context.Database.BeginTransactionAsync();
                if (attempt is { } held)
                    await ClaimAsync(context, runId, held);
                await context.TrainingRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(u => u
                    .SetProperty(r => r.Status, status)
                    .SetProperty(r => r.Message, message)
                    .SetProperty(r => r.FinishedAt, now));
                await transaction.CommitAsync();
            }
        }
        catch (AttemptTakenOverException e)
        {
            logger.LogWarning("Run {RunId} not recorded as {Status}: {Reason}", runId, status, e.Message);
            return;
        }
#pragma warning disable CA1031 // The start-up recovery marks a run left Running as Interrupted; nothing more can be done here.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogError(e, "Could not record run {RunId} as {Status}", runId, status);
        }
        if (attempt is { } number)
            await EndAttemptAsync(runId, number, status.ToString().ToLowerInvariant());
        events.Publish(new RunStatusMessage(runId, status, message));
    }
}
