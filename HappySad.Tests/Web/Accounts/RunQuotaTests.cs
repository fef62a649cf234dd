using System.Net;
using System.Net.Http.Json;
using HappySad.Tests.Support;
using HappySad.Web.Data;
using HappySad.Web.Runs;

namespace HappySad.Tests.Web.Accounts;

/// <summary>
/// A user's cap on queued runs holds when launches arrive side by side, on both providers: SQLite
/// (<see cref="OnSqlite"/>) and PostgreSQL (<see cref="OnPostgres"/>).
/// </summary>
public abstract class RunQuotaTests(TestDatabase database)
{
    [Collection(TorchTraining.Name)]
    public sealed class OnSqlite() : RunQuotaTests(TestDatabase.Sqlite);

    [Collection(TorchTraining.Name)]
    public sealed class OnPostgres(PostgresServer server) : RunQuotaTests(server.CreateDatabase());

    [Fact]
    public async Task LaunchesSentTogetherQueueNoMoreRunsThanTheCap()
    {
        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["TrainingOptions:MaxQueuedRunsPerUser"] = "2" }, database: database);
        using var client = app.CreateClient();
        var dataSetId = await app.CreateDataSetFromSharedPhotosAsync(perClass: 12);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = app.Service<RunEvents>().SubscribeAll(new RunObserver(onStatus: m =>
        {
            if (m.Status == RunStatus.Running)
                running.TrySetResult();
            return Task.CompletedTask;
        }));
        // The worker holds this one, so every later launch waits in the queue.
        Assert.Equal(HttpStatusCode.Created, (await LaunchAsync(client, dataSetId)).StatusCode);
        await running.Task.WaitAsync(TimeSpan.FromSeconds(60));

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => LaunchAsync(client, dataSetId))));

        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(6, answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests));
        var runs = await app.Service<RunService>().ListAsync();
        Assert.Equal(2, runs.Count(r => r.Status == RunStatus.Queued));
        foreach (var run in runs)
            await app.Service<RunService>().CancelAsync(run.Id);
    }

    static Task<HttpResponseMessage> LaunchAsync(HttpClient client, int dataSetId) =>
        client.PostAsJsonAsync("/api/runs", new { data_set_id = dataSetId, epochs = 1000, batch_size = 2 });
}
