using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HappySad.Tests.Support;
using HappySad.Web.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Runs;

namespace HappySad.Tests.Web.Accounts;

/// <summary>Per-user limits on what costs the server most: request rates and queued runs.</summary>
public sealed class UserLimitsTests
{
    [Fact]
    public async Task RunLaunchesBeyondTheUsersRateAreRefusedWith429()
    {
        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["UserRateLimits:RunLaunchesPerMinute"] = "2" });
        using var client = app.CreateClient();
        // Refused recipes still count: the limit is on requests, before any work.
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/api/runs", new { data_set_id = 999 })).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsJsonAsync("/api/runs", new { data_set_id = 999 })).StatusCode);
        // Another user has their own allowance.
        using var other = app.CreateClientAs("Editor");
        Assert.Equal(HttpStatusCode.BadRequest, (await other.PostAsJsonAsync("/api/runs", new { data_set_id = 999 })).StatusCode);
    }

    [Fact]
    public async Task UploadsBeyondTheUsersRateAreRefusedWith429ProblemDetailsAndNotStored()
    {
        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["UserRateLimits:UploadsPerMinute"] = "2" });
        using var client = app.CreateClient();
        var dataSetId = await app.CreateDataSetAsync();
        for (var i = 0; i < 2; i++)
            await Multipart.UploadAsync(client, dataSetId, "happy", ($"{i}.png", TestImages.Blocks(i)));

        using var refused = await UploadAsync(client, dataSetId, ("2.png", TestImages.Blocks(2)));

        await AssertTooManyAsync(refused);
        // Another user has their own allowance.
        using var other = app.CreateClientAs("Editor");
        using var accepted = await UploadAsync(other, dataSetId, ("3.png", TestImages.Blocks(3)));
        Assert.True(accepted.IsSuccessStatusCode, $"{accepted.StatusCode}");
        var stored = (await app.Service<DataSetService>().GetAsync(dataSetId))!;
        Assert.Equal(3, stored.ClassCounts[0]);
        await app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task PredictionsBeyondTheUsersRateAreRefusedWith429ProblemDetails()
    {
        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["UserRateLimits:PredictionsPerMinute"] = "2" });
        using var client = app.CreateClientAs("Viewer");
        // A model that does not exist still costs a request: the limit is counted before any work.
        for (var i = 0; i < 2; i++)
        {
            using var missing = await PredictAsync(client);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using var refused = await PredictAsync(client);

        await AssertTooManyAsync(refused);
        using var other = app.CreateClientAs("Viewer");
        using var answered = await PredictAsync(other);
        Assert.Equal(HttpStatusCode.NotFound, answered.StatusCode);
    }

    static async Task AssertTooManyAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
        // When to try again, which the page's uploads and predictions wait for before sending the batch again.
        Assert.InRange(response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Contains("try again in", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    static async Task<HttpResponseMessage> UploadAsync(HttpClient client, int dataSetId, params (string Name, byte[] Bytes)[] files)
    {
        using var content = Multipart.Files(files);
        return await client.PostAsync(new Uri($"/api/datasets/{dataSetId}/photos?class=happy", UriKind.Relative), content);
    }

    static async Task<HttpResponseMessage> PredictAsync(HttpClient client)
    {
        using var content = Multipart.Files(("face.png", TestImages.Blocks(1)));
        return await client.PostAsync(new Uri("/api/models/run-999/predict", UriKind.Relative), content);
    }

    [Fact]
    public async Task AUserMayQueueOnlySoManyRuns()
    {
        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["TrainingOptions:MaxQueuedRunsPerUser"] = "1" });
        using var client = app.CreateClient();
        var dataSetId = await app.CreateDataSetFromSharedPhotosAsync(perClass: 12);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = app.Service<RunEvents>().SubscribeAll(new RunObserver(onStatus: m =>
        {
            if (m.Status == RunStatus.Running)
                running.TrySetResult();
            return Task.CompletedTask;
        }));

        var training = await LaunchAsync(client, dataSetId);
        Assert.Equal(HttpStatusCode.Created, training.StatusCode);
        await running.Task.WaitAsync(TimeSpan.FromSeconds(60));
        // The worker holds the first; the second waits in the queue; a third would be one too many.
        Assert.Equal(HttpStatusCode.Created, (await LaunchAsync(client, dataSetId)).StatusCode);
        var refused = await LaunchAsync(client, dataSetId);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("MaxQueuedRunsPerUser", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var runs = await app.Service<RunService>().ListAsync();
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.Equal(HappySadAppFactory.UserName, r.CreatedBy));
        foreach (var run in runs)
            await app.Service<RunService>().CancelAsync(run.Id);
    }

    static Task<HttpResponseMessage> LaunchAsync(HttpClient client, int dataSetId) =>
        client.PostAsJsonAsync("/api/runs", new { data_set_id = dataSetId, epochs = 1000, batch_size = 2 });
}
