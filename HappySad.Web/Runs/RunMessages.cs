using HappySad.Web.Data;

namespace HappySad.Web.Runs;

/// <summary>A run changed status. <see cref="Message"/> carries the error of a failed run or the note of a cancelled or interrupted one.</summary>
public sealed record RunStatusMessage(int RunId, RunStatus Status, string? Message);

/// <summary>A run's record was deleted: pages that list or show it drop it.</summary>
public sealed record RunDeletedMessage(int RunId);

/// <summary>A batch finished. Epoch and batch count from 1.</summary>
public sealed record BatchProgressMessage(int RunId, int Epoch, int Epochs, int Batch, int BatchesPerEpoch, double Loss);

/// <summary>
/// Before the first batch: <see cref="Done"/> of <see cref="Total"/> photos decoded into the run's pixel
/// cache. Not sent when a cache from an earlier run on the same photos is reused (nothing to wait for).
/// Before that, on a machine without them, while <see cref="Fetching"/> names a package of pretrained
/// weights: <see cref="Done"/> of <see cref="Total"/> megabytes of it downloaded (Total 0 when the
/// registry does not say).
/// </summary>
public sealed record PreparationProgressMessage(int RunId, int Done, int Total)
{
    public string? Fetching { get; init; }
}

/// <summary>An epoch finished, named as Keras logs it.</summary>
public sealed record EpochCompletedMessage(int RunId, int Epoch, int Epochs, double Loss, double Accuracy, double? ValLoss, double? ValAccuracy, double Seconds);

/// <summary>
/// What the hub's <c>WatchRun</c> returns: the run's status and the epochs it has finished, so a
/// watcher that joins late catches up. Not an event: the events are the messages above.
/// </summary>
public sealed record RunCatchUpMessage(int RunId, RunStatus Status, string? Message, int Epochs, IReadOnlyList<EpochCompletedMessage> History);