using System.Diagnostics;
using System.Globalization;
using HappySad.Training.Training;
using HappySad.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Runs;

/// <summary>
/// The trainer's callback for one run: writes each epoch as it ends (once per epoch, however often the
/// run is resumed), and passes progress to the notifier (batches at a bounded rate).
/// </summary>
public sealed class EpochRecorder(IDbContextFactory<HappySadDbContext> contexts, RunEvents events, int progressIntervalMilliseconds, int runId) : ITrainingCallback
{
    readonly Stopwatch _sinceLastBatchMessage = Stopwatch.StartNew();
    volatile BatchProgress? _last;

    /// <summary>Where the run got to, for the notes of a cancelled or interrupted run.</summary>
    public string Where => _last is { } last
        ? string.Create(CultureInfo.InvariantCulture, $"during epoch {last.Epoch}, batch {last.Batch} of {last.BatchesPerEpoch}")
        : "before the first batch";

    int _epochs;

    public void OnTrainBegin(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _epochs = context.Options.Epochs;
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

    public void OnEpochEnd(EpochMetrics metrics, TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        using (var db = contexts.CreateDbContext())
        {
            // An epoch run again after a crash (it ended, but its checkpoint was not written yet) replaces its row.
            var row = db.RunEpochs.Find(runId, metrics.Epoch);
            if (row is null)
                db.RunEpochs.Add(row = new RunEpoch { RunId = runId, Epoch = metrics.Epoch });
            (row.Loss, row.Accuracy, row.ValLoss, row.ValAccuracy, row.Seconds) = (metrics.Loss, metrics.Accuracy, metrics.ValLoss, metrics.ValAccuracy, metrics.Seconds);
            db.SaveChanges();
        }
        events.Publish(new EpochCompletedMessage(runId, metrics.Epoch, _epochs, metrics.Loss, metrics.Accuracy, metrics.ValLoss, metrics.ValAccuracy, metrics.Seconds));
    }
}
