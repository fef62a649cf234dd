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
            catch (AttemptTakenOverException)
            {
                // Another process claimed the run (the executor logged it); it is that process's now.
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The executor records a run's own failure; this is one of the recording itself (the
                // database gone for a moment). A hosted service that throws stops the whole app, so
                // the worker goes on with the next run, and this one's state is what the database
                // kept (the next start's recovery takes up a run left Running).
                logger.LogError(e, "Run {RunId} could not be started or recorded", runId);
            }
            finally
            {
                queue.Release(runId);
            }
        }
    }
}
