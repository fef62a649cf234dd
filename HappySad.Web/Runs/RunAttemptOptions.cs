namespace HappySad.Web.Runs;

/// <summary>Who is executing a run, and how the executor treats a run that another process started.</summary>
/// <param name="Worker">The name recorded on the attempt.</param>
/// <param name="TakeOver">
/// Claim a run left Running by a worker that died, and resume it as the next attempt. Only where the
/// queue guarantees that one claimant at a time holds a run (Hangfire's invisibility timeout).
/// </param>
/// <param name="HandBackOnStop">
/// When this process is stopping, leave the run Running for another worker (Hangfire puts the job
/// back on the queue) instead of recording it Interrupted.
/// </param>
/// <param name="WatchEvery">
/// How often the attempt reads its run back from the database for a recorded cancel and for being
/// taken over by another worker; null for a process whose cancels arrive in process.
/// </param>
public sealed record RunAttemptOptions(string Worker, bool TakeOver = false, bool HandBackOnStop = false, TimeSpan? WatchEvery = null)
{
    /// <summary>The web app's own worker, or a command-line run: one process, nothing to take over.</summary>
    public static RunAttemptOptions ThisProcess { get; } = new($"{Environment.MachineName}-{Environment.ProcessId}");
}

/// <summary>An attempt that started: its number (1 for the first) and the first epoch it trains.</summary>
public sealed record RunAttemptStart(int Number, int FromEpoch)
{
    public bool IsResumption => Number > 1;
}
