using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Runs.Distributed;

/// <summary>
/// What a worker executes for a queued run. Hangfire hands each job to one worker at a time; when a
/// worker dies, the job becomes visible again after <see cref="WorkerOptions.InvisibilityTimeout"/>
/// and another worker claims it, and the executor resumes the run from its last finished epoch as a
/// new attempt. Hangfire never retries on its own: a failed run is recorded as failed, not re-run.
/// </summary>
[AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
public sealed class RunJob(RunQueue cancels, RunExecutor executor, IOptions<WorkerOptions> options, ILogger<RunJob> logger)
{
    /// <param name="stopping">Hangfire's shutdown token: the worker is stopping, so the run is handed back to the queue for another worker.</param>
    [DisplayName("Train run {0}")]
    public async Task ExecuteAsync(int runId, CancellationToken stopping)
    {
        var worker = options.Value.WorkerName;
        logger.LogInformation("Worker {Worker} claimed run {RunId}", worker, runId);
        var cancel = cancels.Claim(runId);
        try
        {
            var status = await executor.ExecuteAsync(runId, folder: null, [], cancel, stopping,
                new RunAttemptOptions(worker, TakeOver: true, HandBackOnStop: true, WatchEvery: options.Value.RunCheckInterval));
            logger.LogInformation("Worker {Worker} finished run {RunId}: {Status}", worker, runId, status);
        }
        catch (AttemptTakenOverException)
        {
            // Hangfire gave this job to the worker that took the run over, and aborts this copy (its
            // token fires) once it sees that, within its cancellation check interval (5 s). An aborted
            // job leaves the job's state alone; one that ended on its own would set it under the other
            // worker and stop that one. Not aborted, this was a second job for the run (the web node's
            // sweep queued it again), and it ends as done.
            if (await AbortedAsync(runId, stopping))
                throw new OperationCanceledException(stopping);
        }
        finally
        {
            cancels.Release(runId);
        }
    }

    async Task<bool> AbortedAsync(int runId, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(AbortWait, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            logger.LogInformation("Run {RunId}: the queue stopped this worker's copy of its job", runId);
            return true;
        }
        logger.LogInformation("Run {RunId}: this worker's job was a second one for the run, and ends", runId);
        return false;
    }

    /// <summary>Three of Hangfire's cancellation checks (5 s each).</summary>
    static readonly TimeSpan AbortWait = TimeSpan.FromSeconds(15);
}
