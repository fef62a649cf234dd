using System.Diagnostics;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Runs;

/// <summary>What a previous process left behind, put right before the worker takes new runs.</summary>
public sealed class RunRecovery(IDbContextFactory<HappySadDbContext> contexts, RunQueue queue, StoragePaths paths, TimeProvider clock, ILogger<RunRecovery> logger)
{
    /// <summary>
    /// At start-up: a dashboard run cut off by a stop or a crash that has a checkpoint is queued again,
    /// to go on from its last finished epoch; any other run left Running by this app (or by a
    /// command-line process that is gone) becomes Interrupted with a note. Queued runs go back to the
    /// worker in the order they were asked for. Returns the run ids queued again.
    /// </summary>
    public async Task<IReadOnlyList<int>> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var cutOff = await context.TrainingRuns
                .Where(r => r.Status == RunStatus.Running || r.Status == RunStatus.Interrupted || (r.Status == RunStatus.Queued && r.Source == RunSource.CommandLine))
                .ToListAsync(cancellationToken);
            // A cancel recorded before the stop is honoured, not trained to the end after it.
            foreach (var run in cutOff.Where(r => r.Source == RunSource.Dashboard && r.Status is RunStatus.Running or RunStatus.Interrupted && r.CancelRequestedAt is not null))
            {
                var epochs = await context.RunEpochs.CountAsync(e => e.RunId == run.Id, cancellationToken);
                run.Status = RunStatus.Cancelled;
                run.FinishedAt = clock.GetUtcNow();
                run.Message = $"Cancelled; the app stopped before the run did, after {epochs} of {run.Recipe.Epochs} epochs.";
                logger.LogWarning("Run {RunId} was cancelled before the app stopped; marked cancelled, not queued again", run.Id);
            }
            foreach (var run in cutOff.Where(r => r.Source == RunSource.Dashboard && r.Status != RunStatus.Cancelled && File.Exists(paths.RunCheckpoint(r.Id))))
            {
                run.Status = RunStatus.Queued;
                run.FinishedAt = null;
                run.Message = null;
                logger.LogWarning("Run {RunId} was cut off; queued again to go on from its checkpoint", run.Id);
            }
            var leftRunning = cutOff
                .Where(r => r.Status == RunStatus.Running || (r.Status == RunStatus.Queued && r.Source == RunSource.CommandLine))
                .Where(r => r.Source == RunSource.Dashboard || !IsAlive(r.ProcessId))
                .ToList();
            foreach (var run in leftRunning)
            {
                var epochs = await context.RunEpochs.CountAsync(e => e.RunId == run.Id, cancellationToken);
                run.Status = RunStatus.Interrupted;
                run.FinishedAt = clock.GetUtcNow();
                run.Message = $"The process training it stopped unexpectedly after {epochs} of {run.Recipe.Epochs} epochs; the finished epochs are kept. Launch a new run to train again.";
                logger.LogWarning("Run {RunId} was left running by a stopped process; marked interrupted", run.Id);
            }
            await context.SaveChangesAsync(cancellationToken);
            var queued = await context.TrainingRuns
                .Where(r => r.Status == RunStatus.Queued && r.Source == RunSource.Dashboard)
                .OrderBy(r => r.Id).Select(r => r.Id)
                .ToListAsync(cancellationToken);
            queued.ForEach(queue.Enqueue);
            return queued;
        }
    }

    static bool IsAlive(int? processId)
    {
        if (processId is not { } pid || pid == Environment.ProcessId)
            return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}