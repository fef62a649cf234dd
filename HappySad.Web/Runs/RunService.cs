using HappySad.Training.Native;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Runs;

/// <summary>Launching, listing, cancelling and deleting training runs; the worker executes them.</summary>
public sealed class RunService(
    IDbContextFactory<HappySadDbContext> contexts,
    StoragePaths paths,
    IRunDispatcher dispatcher,
    RunEvents events,
    TimeProvider clock,
    IOptions<TrainingOptions> trainingOptions,
    ILogger<RunService> logger)
{
    /// <summary>Everything that stops <paramref name="recipe"/> from working on data set <paramref name="dataSetId"/>, as sentences; empty when a run can start.</summary>
    public async Task<IReadOnlyList<string>> ProblemsAsync(int dataSetId, RunRecipe recipe, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var problems = recipe.Problems(recipe.Device == DevicePreference.Cuda && TorchDevices.CudaAvailable).ToList();
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var dataSet = await context.DataSets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == dataSetId, cancellationToken);
            if (dataSet is null)
            {
                problems.Insert(0, dataSetId == 0 ? "Choose a data set." : $"Data set {dataSetId} does not exist.");
                return problems;
            }
            var counts = await context.Photos
                .Where(p => p.DataSetId == dataSet.Id && p.TrashedAt == null && p.Status == PhotoStatus.Ok)
                .GroupBy(p => p.ClassName)
                .Select(g => new { ClassName = g.Key, Count = g.Count() })
                .ToDictionaryAsync(g => g.ClassName, g => g.Count, cancellationToken);
            foreach (var className in dataSet.ClassNames)
            {
                var count = counts.GetValueOrDefault(className);
                if (count < TrainingPipeline.MinImagesPerClass)
                    problems.Add($"Class '{className}' of '{dataSet.Name}' has {count} usable photo{(count == 1 ? "" : "s")}; a run needs at least {TrainingPipeline.MinImagesPerClass} per class.");
            }
        }
        return problems;
    }

    /// <summary>Records a run as Queued and hands it to the worker. Throws <see cref="RunRecipeException"/> when it cannot work.</summary>
    /// <param name="createdBy">The user launching it; each user may have at most <see cref="TrainingOptions.MaxQueuedRunsPerUser"/> runs waiting.</param>
    public async Task<TrainingRun> LaunchAsync(int dataSetId, RunRecipe recipe, string? createdBy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var problems = await ProblemsAsync(dataSetId, recipe, cancellationToken);
        if (problems.Count > 0)
            throw new RunRecipeException(problems);
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        TrainingRun run;
        await using (context)
        {
            // Counted and added in one transaction that launches by the same user wait for, so
            // launches sent side by side cannot both find room for one more (SQLite takes its write
            // lock at the transaction's start; PostgreSQL takes a lock named for the user).
            await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
            var cap = trainingOptions.Value.MaxQueuedRunsPerUser;
            if (createdBy is not null)
            {
                if (context.Database.IsNpgsql())
                    await context.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({QuotaLock(createdBy)})", cancellationToken);
                if (await context.TrainingRuns.CountAsync(r => r.CreatedBy == createdBy && r.Status == RunStatus.Queued, cancellationToken) >= cap)
                    throw new RunQuotaException($"{createdBy} already has {cap} runs queued (TrainingOptions:MaxQueuedRunsPerUser); wait for some to start or cancel them.");
            }
            var name = await context.DataSets.Where(d => d.Id == dataSetId).Select(d => d.Name).SingleAsync(cancellationToken);
            run = Queued(recipe, RunSource.Dashboard, dataSetId, name, createdBy);
            context.TrainingRuns.Add(run);
            await context.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        events.Publish(new RunStatusMessage(run.Id, RunStatus.Queued, null));
        dispatcher.Dispatch(run.Id);
        logger.LogInformation("Run {RunId} queued on data set {DataSetId}", run.Id, dataSetId);
        return run;
    }

    /// <summary>Records a command-line run on a folder as Queued; the caller executes it with <see cref="RunExecutor"/>.</summary>
    public async Task<TrainingRun> RecordFolderRunAsync(RunRecipe recipe, string folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        recipe.EnsureValid(recipe.Device == DevicePreference.Cuda && TorchDevices.CudaAvailable);
        var run = Queued(recipe, RunSource.CommandLine, null, Path.GetFullPath(folder), createdBy: null);
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            context.TrainingRuns.Add(run);
            await context.SaveChangesAsync(cancellationToken);
        }
        events.Publish(new RunStatusMessage(run.Id, RunStatus.Queued, null));
        return run;
    }

    /// <summary>The key of the PostgreSQL advisory lock that one user's launches take in turn.</summary>
    static long QuotaLock(string user) =>
        BitConverter.ToInt64(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"happysad:run-quota:{user}")));

    TrainingRun Queued(RunRecipe recipe, RunSource source, int? dataSetId, string dataName, string? createdBy) =>
        new()
        {
            Source = source,
            Status = RunStatus.Queued,
            DataSetId = dataSetId,
            DataName = dataName,
            Recipe = recipe.Recorded(),
            CreatedBy = createdBy,
            CreatedAt = clock.GetUtcNow(),
            // A command-line run belongs to its process from the start: if that process dies before
            // the run starts, the next start-up can tell.
            ProcessId = source == RunSource.CommandLine ? Environment.ProcessId : null,
        };

    /// <summary>Every run, newest first, with its epochs (the grid shows its <see cref="RunHealth"/>) but not its images.</summary>
    public async Task<IReadOnlyList<TrainingRun>> ListAsync(CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            return await context.TrainingRuns.AsNoTracking().Include(r => r.History.OrderBy(e => e.Epoch))
                .OrderByDescending(r => r.Id).AsSplitQuery().ToListAsync(cancellationToken);
        }
    }

    /// <summary>One run with its epochs in order; null when it does not exist.</summary>
    public async Task<TrainingRun?> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            return await context.TrainingRuns.AsNoTracking()
                .Include(r => r.History.OrderBy(e => e.Epoch))
                .Include(r => r.Attempts.OrderBy(a => a.Number))
                .AsSplitQuery()
                .FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        }
    }

    /// <summary>Several runs with their epochs, in the order asked; unknown ids are left out.</summary>
    public async Task<IReadOnlyList<TrainingRun>> GetManyAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var runs = await context.TrainingRuns.AsNoTracking()
                .Include(r => r.History.OrderBy(e => e.Epoch))
                .Where(r => ids.Contains(r.Id))
                .ToListAsync(cancellationToken);
            return [.. ids.Select(id => runs.FirstOrDefault(r => r.Id == id)).OfType<TrainingRun>()];
        }
    }

    public async Task<RunCatchUpMessage?> StateAsync(int id, CancellationToken cancellationToken = default) =>
        await GetAsync(id, cancellationToken) is { } run
            ? new RunCatchUpMessage(run.Id, run.Status, run.Message, run.Recipe.Epochs, [.. run.History.Select(e => ToMessage(run, e))])
            : null;

    public static EpochCompletedMessage ToMessage(TrainingRun run, RunEpoch epoch)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(epoch);
        return new(run.Id, epoch.Epoch, run.Recipe.Epochs, epoch.Loss, epoch.Accuracy, epoch.ValLoss, epoch.ValAccuracy, epoch.Seconds);
    }

    /// <summary>The images of a run's snapshot, optionally of one split, in snapshot order.</summary>
    public async Task<IReadOnlyList<RunImage>> ImagesAsync(int runId, RunSplit? split = null, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var query = context.RunImages.AsNoTracking().Where(i => i.RunId == runId);
            if (split is { } only)
                query = query.Where(i => i.Split == only);
            return await query.OrderBy(i => i.Id).ToListAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Cancels a queued run at once, or asks a running one to stop (it does within one batch). A run
    /// training in another process (the command line) is stopped there, with Ctrl+C.
    /// </summary>
    public async Task<CancelOutcome> CancelAsync(int id, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var now = clock.GetUtcNow();
            const string note = "Cancelled before it started.";
            var cancelled = await context.TrainingRuns
                .Where(r => r.Id == id && r.Status == RunStatus.Queued)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, RunStatus.Cancelled).SetProperty(r => r.Message, note).SetProperty(r => r.FinishedAt, now), cancellationToken);
            if (cancelled > 0)
            {
                events.Publish(new RunStatusMessage(id, RunStatus.Cancelled, note));
                return CancelOutcome.Cancelled;
            }
            var run = await context.TrainingRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken)
                ?? throw new RunNotFoundException(id);
            if (run.Status != RunStatus.Running)
                return CancelOutcome.AlreadyFinished;
            if (run.Source == RunSource.Dashboard)
            {
                // Recorded first: a worker that claims the run after its previous one died cancels it instead of resuming it.
                await context.TrainingRuns.Where(r => r.Id == id && r.Status == RunStatus.Running)
                    .ExecuteUpdateAsync(u => u.SetProperty(r => r.CancelRequestedAt, now), cancellationToken);
                if (await dispatcher.CancelRunningAsync(id, cancellationToken))
                    return CancelOutcome.Stopping;
            }
            throw new RunStateException($"run {id} is training in another process (the command line, process {run.ProcessId}); stop it there with Ctrl+C");
        }
    }

    /// <summary>Names a run and sets its notes (any status); throws <see cref="RunDescriptionException"/> when either is too long.</summary>
    public async Task<TrainingRun> DescribeAsync(int id, RunDescription description, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(description);
        if (description.Problems() is { Count: > 0 } problems)
            throw new RunDescriptionException(problems);
        var (name, notes) = description.Cleaned();
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var run = await context.TrainingRuns.FirstOrDefaultAsync(r => r.Id == id, cancellationToken)
                ?? throw new RunNotFoundException(id);
            if (name is not null)
                run.Name = name.Length == 0 ? null : name;
            if (notes is not null)
                run.Notes = notes.Length == 0 ? null : notes;
            await context.SaveChangesAsync(cancellationToken);
        }
        return await GetAsync(id, cancellationToken) ?? throw new RunNotFoundException(id);
    }

    /// <summary>Deletes a finished run, its model file and its test images. An active run must be cancelled first.</summary>
    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            var run = await context.TrainingRuns.FirstOrDefaultAsync(r => r.Id == id, cancellationToken)
                ?? throw new RunNotFoundException(id);
            if (run.IsActive)
                throw new RunStateException($"run {id} is {run.Status.ToString().ToLowerInvariant()}; cancel it before deleting it");
            context.TrainingRuns.Remove(run);
            await context.SaveChangesAsync(cancellationToken);
        }
        var folder = paths.Run(id);
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        events.Publish(new RunDeletedMessage(id));
        logger.LogInformation("Deleted run {RunId}", id);
    }
}