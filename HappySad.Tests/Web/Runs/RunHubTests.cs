using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HappySad.Tests.Support;
using HappySad.Training.Training;
using HappySad.Web.Api;
using HappySad.Web.Data;
using HappySad.Web.Runs;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace HappySad.Tests.Web.Runs;

/// <summary>A plain SignalR client (not the Blazor pages) watching runs over <c>/hubs/training</c>.</summary>
[Collection(TorchTraining.Name)]
public sealed class RunHubTests : IDisposable
{
    readonly HappySadAppFactory _app = new();

    [Fact]
    public async Task AClientHearsEveryEpochOfARunInOrderAndThenItsSuccess()
    {
        var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(10);
        await using var hub = Connect();
        var epochs = new ConcurrentQueue<EpochCompletedMessage>();
        var statuses = new ConcurrentQueue<RunStatusMessage>();
        var batches = new ConcurrentQueue<BatchProgressMessage>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.On<EpochCompletedMessage>(nameof(IRunClient.EpochCompleted), epochs.Enqueue);
        hub.On<BatchProgressMessage>(nameof(IRunClient.BatchProgress), batches.Enqueue);
        hub.On<RunStatusMessage>(nameof(IRunClient.RunStatusChanged), m =>
        {
            statuses.Enqueue(m);
            if (m.Status is RunStatus.Succeeded or RunStatus.Failed)
                finished.TrySetResult();
        });
        await hub.StartAsync();
        // Listening to every run before launching, so that nothing can happen before the client listens.
        await hub.InvokeAsync(nameof(RunHub.WatchAllRuns));

        using var client = _app.CreateClient();
        var response = await client.PostAsJsonAsync("/api/runs", new { dataSetId, epochs = 2, batchSize = 8 }, WireJson.Options);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(120));

        var runId = statuses.First().RunId;
        Assert.Equal([RunStatus.Queued, RunStatus.Running, RunStatus.Succeeded], statuses.Select(s => s.Status));
        Assert.Equal([1, 2], epochs.Select(e => e.Epoch));
        Assert.All(epochs, e => Assert.Equal((runId, 2), (e.RunId, e.Epochs)));
        Assert.All(epochs, e => Assert.True(e.Loss > 0 && e.ValLoss > 0 && e.ValAccuracy is >= 0 and <= 1));
        // Every epoch's batches arrive before that epoch's end, first and last batch included.
        Assert.Contains(batches, b => b is { Epoch: 1, Batch: 1 });
        Assert.Contains(batches, b => b.Epoch == 2 && b.Batch == b.BatchesPerEpoch);

        // The epochs heard live are the ones recorded.
        var recorded = await _app.Service<RunService>().GetAsync(runId);
        Assert.Equal(recorded!.History.Select(e => (e.Epoch, e.Loss, e.ValAccuracy)), epochs.Select(e => (e.Epoch, e.Loss, e.ValAccuracy)));
    }

    [Fact]
    public async Task WatchingARunReturnsTheEpochsAlreadyFinishedAndAnUnknownRunIsAnError()
    {
        var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(10);
        var run = await _app.WaitForRunAsync((await _app.Service<RunService>().LaunchAsync(dataSetId, new RunRecipe { Epochs = 2 })).Id);
        await using var hub = Connect();
        await hub.StartAsync();

        var state = await hub.InvokeAsync<RunCatchUpMessage>(nameof(RunHub.WatchRun), run.Id);

        Assert.Equal(RunStatus.Succeeded, state.Status);
        Assert.Equal([1, 2], state.History.Select(e => e.Epoch));
        var error = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<RunCatchUpMessage>(nameof(RunHub.WatchRun), 999));
        Assert.Contains("run 999 does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARunsEpochMetricsHaveTheSameKeysOverHttpAndOverTheHub()
    {
        var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(10);
        await using var hub = Connect();
        var heard = new ConcurrentQueue<JsonElement>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.On<JsonElement>(nameof(IRunClient.EpochCompleted), heard.Enqueue);
        hub.On<RunStatusMessage>(nameof(IRunClient.RunStatusChanged), m =>
        {
            if (m.Status is RunStatus.Succeeded or RunStatus.Failed)
                finished.TrySetResult();
        });
        await hub.StartAsync();
        await hub.InvokeAsync(nameof(RunHub.WatchAllRuns));

        using var client = _app.CreateClient();
        var launched = await client.PostAsJsonAsync("/api/runs", new { dataSetId, epochs = 1, batchSize = 8 }, WireJson.Options);
        Assert.Equal(HttpStatusCode.Created, launched.StatusCode);
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(120));
        var runId = (await launched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var overHttp = (await client.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}")).GetProperty("epochs")[0];

        static string[] Keys(JsonElement epoch) => [.. epoch.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
        Assert.Equal(Keys(overHttp), Keys(heard.Single()));
        Assert.Contains("val_loss", Keys(overHttp));
        Assert.Equal(overHttp.GetProperty("val_loss").GetDouble(), heard.Single().GetProperty("val_loss").GetDouble());
    }

    [Fact]
    public async Task TheOpenApiDocumentNamesPropertiesAsTheApiWritesThem()
    {
        using var client = _app.CreateClient();
        var document = await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.Contains("\"val_loss\"", document, StringComparison.Ordinal);
        Assert.Contains("\"class_names\"", document, StringComparison.Ordinal);
        Assert.DoesNotContain("\"valLoss\"", document, StringComparison.Ordinal);
        // Launching a run documents the recipe it takes, though the endpoint reads its body by hand.
        using var json = System.Text.Json.JsonDocument.Parse(document);
        var launch = json.RootElement.GetProperty("paths").GetProperty("/api/runs").GetProperty("post");
        Assert.Contains("RunRecipe", launch.GetProperty("requestBody").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConnectionWhoseTokenIsRevokedOrWhoseUserIsLockedIsClosedWhileAnotherStaysOpen()
    {
        var users = _app.Service<HappySad.Web.Accounts.UserAdministration>();
        var tokens = _app.Service<HappySad.Web.Accounts.ApiTokenService>();
        var revoked = await _app.CreateUserTokenAsync("revoked", HappySad.Web.Accounts.AppRoles.Viewer);
        var locked = await _app.CreateUserTokenAsync("locked", HappySad.Web.Accounts.AppRoles.Viewer);
        await using var revokedHub = Connect(revoked);
        await using var lockedHub = Connect(locked);
        await using var staying = Connect();
        var closed = new ConcurrentDictionary<HubConnection, bool>();
        foreach (var hub in (HubConnection[])[revokedHub, lockedHub, staying])
        {
            hub.Closed += _ => { closed[hub] = true; return Task.CompletedTask; };
            await hub.StartAsync();
            await hub.InvokeAsync(nameof(RunHub.WatchAllRuns));
        }

        var all = await users.ListAsync();
        var revokedId = all.Single(u => u.Name == "revoked").Id;
        await tokens.RevokeAsync(revokedId, (await tokens.ListAsync(revokedId)).Single().Id);
        await users.SetLockedAsync(all.Single(u => u.Name == "locked").Id, locked: true);

        // Checked again every few seconds: both are closed by the server, the admin's stays.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (closed.Count < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.True(closed.ContainsKey(revokedHub) && closed.ContainsKey(lockedHub), $"{closed.Count} of 2 closed");
        Assert.Equal(HubConnectionState.Connected, staying.State);
        await staying.InvokeAsync(nameof(RunHub.WatchAllRuns));
    }

    /// <summary>Long polling through the in-memory test server, with the payload options the app uses.</summary>
    HubConnection Connect(string? token = null) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(_app.Server.BaseAddress, "hubs/training"), options =>
            {
                options.HttpMessageHandlerFactory = _ => _app.Server.CreateHandler();
                options.AccessTokenProvider = () => Task.FromResult<string?>(token ?? _app.Token);
                options.Transports = HttpTransportType.LongPolling;
            })
            .AddJsonProtocol(options => WireJson.Configure(options.PayloadSerializerOptions))
            .Build();

    public void Dispose() => _app.Dispose();
}
