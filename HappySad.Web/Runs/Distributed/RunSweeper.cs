using Hangfire;
using Hangfire.Storage;
using HappySad.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Runs.Distributed;

/// <summary>
/// On a web node that queues runs for workers: every <see cref="WorkerOptions.SweepInterval"/>, a
/// dashboard run that waits (Queued) or trains (Running) with no job in Hangfire's queue to carry it
/// is queued again. That is a run whose enqueueing was cut off by a crash, whose job the queue lost,
/// or whose worker could not record how it ended (the database gone at that moment). A worker takes
/// such a run over as it takes over a dead worker's: from its checkpoint, as the next attempt, or
/// cancelled when a cancel is recorded. Several web nodes sweep in turn under one Hangfire lock.
/// </summary>
public sealed class RunSweeper(
    IDbContextFactory<HappySadDbContext> contexts,
    JobStorage storage,
    IRunDispatcher dispatcher,
    IOptions<WorkerOptions> options,
    TimeProvider clock,
    ILogger<RunSweeper> logger) : BackgroundService
{
    const string LockName = "happysad:run-sweep";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The database or the queue gone for a moment: the next sweep tries again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogWarning(e, "Could not look for runs that lost their job");
            }
        }
    }

    /// <summary>Queues again each waiting or training run that no job carries; returns their ids.</summary>
    public async Task<IReadOnlyList<int>> SweepAsync(CancellationToken cancellationToken = default)
    {
        // A run queued a moment ago may be between its row and its job.
        var before = clock.GetUtcNow() - options.Value.SweepGrace;
        var candidates = await ActiveRunsAsync(r => r.CreatedAt < before, cancellationToken);
        if (candidates.Count == 0)
            return [];

        using var connection = storage.GetConnection();
        using var sweeping = connection.AcquireDistributedLock(LockName, TimeSpan.FromSeconds(10));
        if (CarriedRuns(storage.GetMonitoringApi()) is not { } carried)
        {
            // A job this node cannot read (one queued by a newer version, during an upgrade) might carry any run.
            logger.LogWarning("Not looking for runs that lost their job: the queue holds a job this node cannot read");
            return [];
        }
        // Read again after the queue: a run that ended meanwhile, or whose job has moved on, is left alone.
        var stranded = (await ActiveRunsAsync(r => candidates.Contains(r.Id), cancellationToken))
            .Where(id => !carried.Contains(id)).ToList();
        foreach (var runId in stranded)
        {
            logger.LogWarning("Run {RunId} is waiting or training with no job in the queue to carry it; queued again", runId);
            dispatcher.Dispatch(runId);
        }
        return stranded;
    }

    async Task<List<int>> ActiveRunsAsync(System.Linq.Expressions.Expression<Func<TrainingRun, bool>> filter, CancellationToken cancellationToken)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            return await context.TrainingRuns
                .Where(r => r.Source == RunSource.Dashboard && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running))
                .Where(filter)
                .Select(r => r.Id)
                .ToListAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The runs that a job in the queue carries: waiting, fetched by a worker, being processed or
    /// scheduled. Read in the order a job moves through them (a job a stopping worker puts back keeps
    /// its Processing state), so one moving on is seen at least once. Null when a job cannot be read.
    /// </summary>
    static HashSet<int>? CarriedRuns(IMonitoringApi monitoring)
    {
        // Whole lists, not counted first and then paged: a job put back between the two would push another past the page.
        const int All = int.MaxValue;
        var carried = new HashSet<int>();
        var unreadable = false;
        void Add(Hangfire.Common.Job? job)
        {
            if (job is null)
                unreadable = true;
            else if (job is { Type.Name: nameof(RunJob), Args: [int runId, ..] })
                carried.Add(runId);
        }
        foreach (var queue in monitoring.Queues())
        {
            foreach (var (_, job) in monitoring.EnqueuedJobs(queue.Name, 0, All))
                Add(job.Job);
            foreach (var (_, job) in monitoring.FetchedJobs(queue.Name, 0, All))
                Add(job.Job);
        }
        foreach (var (_, job) in monitoring.ProcessingJobs(0, All))
            Add(job.Job);
        foreach (var (_, job) in monitoring.ScheduledJobs(0, All))
            Add(job.Job);
        return unreadable ? null : carried;
    }
}
