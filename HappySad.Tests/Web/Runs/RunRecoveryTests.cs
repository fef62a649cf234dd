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
        Assert.StartsWith("The app stopped during epoch ", stopped.Message, StringComparison.Ordinal);
        Assert.InRange(stopped.History.Count, 1, 49);
        Assert.NotNull(stopped.FinishedAt);
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
