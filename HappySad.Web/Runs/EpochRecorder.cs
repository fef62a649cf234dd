using System.Diagnostics;
using System.Globalization;
using HappySad.Training.Training;
using HappySad.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Runs;

/// <summary>
/// The trainer's callback for one attempt of a run: writes each epoch as it ends (once per epoch,
/// however often the run is resumed), and passes progress to the notifier (batches at a bounded rate).
/// An attempt that another worker took over writes nothing and stops the fit
/// (<see cref="AttemptTakenOverException"/>), before its checkpoint is written.
/// </summary>
public sealed class EpochRecorder(IDbContextFactory<HappySadDbContext> contexts, RunEvents events, int progressIntervalMilliseconds, int runId, int attempt) : ITrainingCallback
{
    readonly Stopwatch _sinceLastBatchMessage = Stopwatch.StartNew();
    volatile BatchProgress? _last;
    volatile int _savedEpoch;

    /// <summary>Where the run got to, for the notes of a cancelled or interrupted run: inside an epoch, or between two once one is saved.</summary>
    public string Where
    {
        get
        {
            var (last, saved) = (_last, _savedEpoch);
            if (last is not null && last.Epoch > saved)
                return string.Create(CultureInfo.InvariantCulture, $"during epoch {last.Epoch}, batch {last.Batch} of {last.BatchesPerEpoch}");
            return saved > 0 ? string.Create(CultureInfo.InvariantCulture, $"after epoch {saved}") : "before the first batch";
        }
    }

    int _epochs;

    public void OnTrainBegin(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _epochs = context.Options.Epochs;
        _savedEpoch = context.ResumedAfterEpoch;
        // A run killed after writing a checkpoint but before recording its epoch: the checkpoint has the epoch, the table gets it now.
        using var db = contexts.CreateDbContext();
        using var transaction = RunRecorder.Claim(db, runId, attempt);
        var recorded = db.RunEpochs.Where(e => e.RunId == runId).Select(e => e.Epoch).ToHashSet();
        foreach (var missing in context.ResumedEpochs.Where(e => !recorded.Contains(e.Epoch)))
            db.RunEpochs.Add(Row(missing));
        db.SaveChanges();
        transaction.Commit();
    }

    public void OnBatchEnd(BatchProgress progress, TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(progress);
        _last = progress;
        if (progress.Batch != progress.BatchesPerEpoch && progress.Batch != 1 && _sinceLastBatchMessage.ElapsedMilliseconds < progressIntervalMilliseconds)
            return;
        _sinceLastBatchMessage.Restart();
        events.Publish(new BatchProgressMessage(runId, progress.Epoch, _epochs, progress.Batch, progress.BatchesPerEpoch, progress.Loss));
    }

    /// <summary>Before the epoch's checkpoint is written: an attempt taken over leaves the checkpoint to the one that took it.</summary>
    public void OnEpochEnd(EpochMetrics metrics, TrainingContext context)
    {
        using var db = contexts.CreateDbContext();
        if (!RunRecorder.Open(db, runId, attempt).Any())
            throw new AttemptTakenOverException(runId, attempt);
    }

    /// <summary>Once the epoch's checkpoint is written: a recorded epoch is one a resumed run goes on after, never one it trains again.</summary>
    public void OnEpochSaved(EpochMetrics metrics, TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        using (var db = contexts.CreateDbContext())
        {
            using var transaction = RunRecorder.Claim(db, runId, attempt);
            // Rows are written only for checkpointed epochs, so a resumed run never trains one again; replacing keeps this idempotent all the same.
            if (db.RunEpochs.Find(runId, metrics.Epoch) is { } row)
                (row.Loss, row.Accuracy, row.ValLoss, row.ValAccuracy, row.Seconds) = (metrics.Loss, metrics.Accuracy, metrics.ValLoss, metrics.ValAccuracy, metrics.Seconds);
            else
                db.RunEpochs.Add(Row(metrics));
            db.SaveChanges();
            transaction.Commit();
        }
        _savedEpoch = metrics.Epoch;
        events.Publish(new EpochCompletedMessage(runId, metrics.Epoch, _epochs, metrics.Loss, metrics.Accuracy, metrics.ValLoss, metrics.ValAccuracy, metrics.Seconds));
    }

    RunEpoch Row(EpochMetrics metrics) => new()
    {
        RunId = runId,
        Epoch = metrics.Epoch,
        Loss = metrics.Loss,
        Accuracy = metrics.Accuracy,
        ValLoss = metrics.ValLoss,
        ValAccuracy = metrics.ValAccuracy,
        Seconds = metrics.Seconds,
    };
}
