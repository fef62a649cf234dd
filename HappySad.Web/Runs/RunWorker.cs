namespace HappySad.Web.Runs;

/// <summary>
/// The hosted service that trains: recovers what a previous process left behind (<see cref="RunRecovery"/>), then takes queued
/// runs one at a time and hands each to <see cref="RunExecutor"/>, which records everything.
/// </summary>
public sealed class RunWorker(RunQueue queue, RunRecovery recovery, RunExecutor executor, ILogger<RunWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var requeued = await recovery.RecoverAsync(stoppingToken);
        if (requeued.Count > 0)
            logger.LogInformation("Queued again after a restart: runs {RunIds}", requeued);
        await foreach (var runId in queue.ReadAllAsync(stoppingToken))
        {
            var cancel = queue.Claim(runId);
            try
            {
                await executor.ExecuteAsync(runId, folder: null, [], cancel, stoppingToken);
            }
            finally
            {
                queue.Release(runId);
            }
        }
    }
}
