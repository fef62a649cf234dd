using HappySad.Tests.Support;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.Runs;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Tests.Web.Runs;

/// <summary>What a stop or a crash in the middle of training leaves, and what the next start makes of it.</summary>
/// <remarks>On both providers: SQLite (<see cref="OnSqlite"/>) and PostgreSQL (<see cref="OnPostgres"/>).</remarks>
public abstract class RunRecoveryTests(TestDatabase database)
{
    [Collection(TorchTraining.Name)]
    public sealed class OnSqlite() : RunRecoveryTests(TestDatabase.Sqlite);

    [Collection(TorchTraining.Name)]
    public sealed class OnPostgres(PostgresServer server) : RunRecoveryTests(server.CreateDatabase());

    [Fact]
    public async Task StoppingTheAppMidRunRecordsItAsInterruptedWithItsFinishedEpochs()
    {
        using var data = new TempDirectory();
        int runId;
        using (var app = new HappySadAppFactory(dataDirectory: data.Path, database: database))
        {
            var dataSetId = await app.CreateDataSetFromSharedPhotosAsync(10);
            var run = await app.Service<RunService>().LaunchAsync(dataSetId, new RunRecipe { Epochs = 50, BatchSize = 4 });
            runId = run.Id;
            var epochDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var _ = app.Service<RunEvents>().Subscribe(runId, new RunObserver(onEpoch: _ =>
            {
                epochDone.TrySetResult();
                return Task.CompletedTask;
            }));
            await epochDone.Task.WaitAsync(TimeSpan.FromSeconds(120));
        }

        await using var context = database.Open(data.Path);
        var stopped = await context.TrainingRuns.Include(r => r.History).SingleAsync(r => r.Id == runId);
        Assert.Equal(RunStatus.Interrupted, stopped.Status);
        Assert.InRange(stopped.History.Count, 1, 49);
        // Inside the epoch after the last saved one, or between the two when the stop came before its first batch ended.
        var saved = stopped.History.Count;
        Assert.Matches($"^The app stopped (during epoch {saved + 1}, batch [0-9]+ of [0-9]+|after epoch {saved});", stopped.Message);
        Assert.NotNull(stopped.FinishedAt);
    }

    [Fact]
    public async Task ARunStoppedAfterEpochTwoGoesOnFromEpochThreeAtTheNextStartAndRecordsEachEpochOnce()
    {
        using var data = new TempDirectory();
        int runId;
        using (var app = new HappySadAppFactory(dataDirectory: data.Path, database: database))
        {
            var dataSetId = await app.CreateDataSetFromSharedPhotosAsync(10);
            var run = await app.Service<RunService>().LaunchAsync(dataSetId, new RunRecipe { Epochs = 4, BatchSize = 4 });
            runId = run.Id;
            var secondEpochDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var _ = app.Service<RunEvents>().Subscribe(runId, new RunObserver(onEpoch: e =>
            {
                if (e.Epoch == 2)
                    secondEpochDone.TrySetResult();
                return Task.CompletedTask;
            }));
            await secondEpochDone.Task.WaitAsync(TimeSpan.FromSeconds(180));
        }

        List<RunEpoch> before;
        int imagesBefore;
        await using (var context = database.Open(data.Path))
        {
            var stopped = await context.TrainingRuns.SingleAsync(r => r.Id == runId);
            Assert.Equal(RunStatus.Interrupted, stopped.Status);
            Assert.EndsWith("the run goes on from its last finished epoch when the app starts again.", stopped.Message, StringComparison.Ordinal);
            before = await context.RunEpochs.AsNoTracking().Where(e => e.RunId == runId).OrderBy(e => e.Epoch).ToListAsync();
            imagesBefore = await context.RunImages.CountAsync(i => i.RunId == runId);
        }
        Assert.Equal([1, 2], before.Select(e => e.Epoch));
        Assert.True(File.Exists(Path.Combine(data.Path, "runs", $"{runId}", "training.checkpoint")));

        using var restarted = new HappySadAppFactory(dataDirectory: data.Path, database: database);
        var heard = new List<int>();
        using (restarted.Service<RunEvents>().Subscribe(runId, new RunObserver(onBatch: b =>
        {
            lock (heard)
                heard.Add(b.Epoch);
            return Task.CompletedTask;
        })))
        {
            var finished = await restarted.WaitForRunAsync(runId, resumes: true);
            Assert.Equal(RunStatus.Succeeded, finished.Status);
        }

        lock (heard)
            Assert.DoesNotContain(heard, epoch => epoch < 3);
        await using (var context = database.Open(data.Path))
        {
            var after = await context.RunEpochs.AsNoTracking().Where(e => e.RunId == runId).OrderBy(e => e.Epoch).ToListAsync();
            Assert.Equal([1, 2, 3, 4], after.Select(e => e.Epoch));
            // The first two epochs were not trained again: their rows (timings included) are the first attempt's.
            Assert.Equal(before.Select(e => (e.Loss, e.ValLoss, e.Seconds)), after.Take(2).Select(e => (e.Loss, e.ValLoss, e.Seconds)));
            Assert.Equal(imagesBefore, await context.RunImages.CountAsync(i => i.RunId == runId));
            // Two attempts by this app: the one the stop cut off, and the one that went on from epoch 3.
            var attempts = await context.RunAttempts.AsNoTracking().Where(a => a.RunId == runId).OrderBy(a => a.Number).ToListAsync();
            Assert.Equal([(1, 1, "interrupted"), (2, 3, "succeeded")], attempts.Select(a => (a.Number, a.FromEpoch, a.Outcome)));
        }
        Assert.False(File.Exists(Path.Combine(data.Path, "runs", $"{runId}", "training.checkpoint")), "a finished run's checkpoint is deleted");
    }

    [Fact]
    public async Task AStartAfterACrashInterruptsWhatWasRunningAndRunsWhatWasQueued()
    {
        using var data = new TempDirectory();
        int dataSetId;
        using (var first = new HappySadAppFactory(dataDirectory: data.Path, database: database))
            dataSetId = await first.CreateDataSetFromSharedPhotosAsync(10);

        // What a crash leaves: a dashboard run still "Running", a queued one, a command-line run
        // whose process is gone, and one whose process (pid 1) is alive and still training.
        await using (var context = database.Open(data.Path))
        {
            context.TrainingRuns.AddRange(
                Run(dataSetId, RunStatus.Running, RunSource.Dashboard, processId: 4242),
                Run(dataSetId, RunStatus.Queued, RunSource.Dashboard, processId: null),
                Run(null, RunStatus.Running, RunSource.CommandLine, processId: int.MaxValue - 1),
                Run(null, RunStatus.Running, RunSource.CommandLine, processId: 1));
            await context.SaveChangesAsync();
        }

        using var restarted = new HappySadAppFactory(dataDirectory: data.Path, database: database);
        var queued = await restarted.WaitForRunAsync(2);

        Assert.Equal(RunStatus.Succeeded, queued.Status);
        var runs = await restarted.Service<RunService>().ListAsync();
        var byId = runs.ToDictionary(r => r.Id);
        Assert.Equal(RunStatus.Interrupted, byId[1].Status);
        Assert.StartsWith("The process training it stopped unexpectedly after 0 of 2 epochs", byId[1].Message, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Interrupted, byId[3].Status);
        Assert.Equal(RunStatus.Running, byId[4].Status);
    }

    /// <summary>
    /// What a worker that was paused past the queue's invisibility timeout finds when it wakes: another
    /// worker has taken its run over. Here this app's own worker trains the run, and the take-over is
    /// the one a worker makes (<see cref="RunRecorder.StartAsync"/> with <c>TakeOver</c>).
    /// </summary>
    [Fact]
    public async Task AnAttemptTakenOverByAnotherWorkerStopsAndRecordsNothingMore()
    {
        using var app = new HappySadAppFactory(database: database);
        var dataSetId = await app.CreateDataSetFromSharedPhotosAsync(10);
        var runs = app.Service<RunService>();
        var run = await runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 500, BatchSize = 4 });
        var epochDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (app.Service<RunEvents>().Subscribe(run.Id, new RunObserver(onEpoch: _ =>
        {
            epochDone.TrySetResult();
            return Task.CompletedTask;
        })))
        {
            await epochDone.Task.WaitAsync(TimeSpan.FromSeconds(120));
        }

        var taken = await app.Service<RunRecorder>().StartAsync(run.Id, new RunAttemptOptions("other-worker", TakeOver: true));
        Assert.Equal(2, taken?.Number);
        // A cancel that reaches the attempt taken over (this app's own) is not recorded either: the run is the other worker's.
        Assert.True(app.Service<RunQueue>().TryCancel(run.Id));

        // The app trains one run at a time: this one starts once the attempt taken over has stopped.
        var next = await runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 1, BatchSize = 4 });
        Assert.Equal(RunStatus.Succeeded, (await app.WaitForRunAsync(next.Id)).Status);

        await using var context = database.Open(app.DataDirectory);
        var left = await context.TrainingRuns.AsNoTracking().SingleAsync(r => r.Id == run.Id);
        var epochs = await context.RunEpochs.CountAsync(e => e.RunId == run.Id);
        var attempts = await context.RunAttempts.AsNoTracking().Where(a => a.RunId == run.Id).OrderBy(a => a.Number).ToListAsync();
        // Still the other worker's: not failed, cancelled or interrupted by the attempt that lost it,
        // no epoch written after the take-over counted them, no model.
        Assert.Equal(RunStatus.Running, left.Status);
        Assert.Null(left.ModelPath);
        Assert.InRange(epochs, 1, 499);
        Assert.Equal([(1, $"worker lost after {epochs} epoch{(epochs == 1 ? "" : "s")}"), (2, null)], attempts.Select(a => (a.Number, a.Outcome)));
        Assert.Equal("other-worker", attempts[1].Worker);
        Assert.Null(attempts[1].EndedAt);
        // The checkpoint the other worker resumes from is left in place.
        Assert.True(File.Exists(app.Service<HappySad.Web.Storage.StoragePaths>().RunCheckpoint(run.Id)));
    }

    static TrainingRun Run(int? dataSetId, RunStatus status, RunSource source, int? processId) => new()
    {
        DataSetId = dataSetId,
        DataName = dataSetId is null ? "/somewhere/photos" : "photos",
        Status = status,
        Source = source,
        ProcessId = processId,
        Recipe = new RunRecipe { Epochs = 2, BatchSize = 8 },
        CreatedAt = DateTimeOffset.UtcNow,
    };
}
