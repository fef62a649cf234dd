namespace HappySad.Web.Runs;

/// <summary>
/// Where a queued run goes to be trained, and how a person's cancel reaches the process training it:
/// this app's own worker (<see cref="InProcessRunDispatcher"/>, the default), or training workers on
/// other machines through Hangfire (<see cref="Distributed.HangfireRunDispatcher"/>).
/// </summary>
public interface IRunDispatcher
{
    /// <summary>Hands over a run already recorded as Queued.</summary>
    void Dispatch(int runId);

    /// <summary>Asks whoever trains a running run to stop within a batch; false when none can be reached from here.</summary>
    Task<bool> CancelRunningAsync(int runId, CancellationToken cancellationToken = default);
}

/// <summary>The embedded default: the web app's own <see cref="RunWorker"/> takes runs off <see cref="RunQueue"/>.</summary>
public sealed class InProcessRunDispatcher(RunQueue queue) : IRunDispatcher
{
    public void Dispatch(int runId) => queue.Enqueue(runId);

    public Task<bool> CancelRunningAsync(int runId, CancellationToken cancellationToken = default) => Task.FromResult(queue.TryCancel(runId));
}
