namespace HappySad.Web.Runs;

/// <summary>How training runs report progress. Bound from the <c>TrainingOptions</c> configuration section.</summary>
public sealed class TrainingOptions
{
    /// <summary>Batch progress is pushed at most this often per run (every batch's loss still counts in its epoch).</summary>
    public int ProgressIntervalMilliseconds { get; set; } = 200;

    /// <summary>Runs one user may have waiting in the queue; one more is refused (429) until some start.</summary>
    public int MaxQueuedRunsPerUser { get; set; } = 20;
}
