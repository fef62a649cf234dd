using Hangfire;

namespace HappySad.Web.Runs.Distributed;

/// <summary>The web node's side of scaling out: a queued run becomes a Hangfire job that a worker claims; a cancel is a notification every worker hears.</summary>
public sealed class HangfireRunDispatcher(IBackgroundJobClient jobs, RunSignals signals, ILogger<HangfireRunDispatcher> logger) : IRunDispatcher
{
    public void Dispatch(int runId)
    {
        var job = jobs.Enqueue<RunJob>(run => run.ExecuteAsync(runId, CancellationToken.None));
        logger.LogInformation("Run {RunId} queued for the workers as job {JobId}", runId, job);
    }

    public async Task<bool> CancelRunningAsync(int runId, CancellationToken cancellationToken = default)
    {
        await signals.CancelAsync(runId, cancellationToken);
        return true;
    }
}
