using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Json;
using HappySad.Tests.EndToEnd;
using HappySad.Tests.Support;
using HappySad.Web.Api;
using HappySad.Web.Data;
using HappySad.Web.Runs;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace HappySad.Tests.Distributed;

/// <summary>
/// The scaled-out profile with its real engines: a web node and two <c>worker</c> processes of the
/// built executable over one PostgreSQL database (Hangfire's queue and the runs) and one shared
/// data directory. A worker is killed with SIGKILL in the middle of a run, and a run is cancelled
/// on the web node while a worker trains it.
/// </summary>
[Collection(PostgresServer.Name)]
public sealed class DistributedRunsTests(PostgresServer postgres, ITestOutputHelper output)
{
    const int Epochs = 6;

    [Fact]
    public async Task TwoWorkersShareTheQueueALostWorkersRunResumesOnTheOtherAndACancelReachesTheWorker()
    {
        using var shared = new TempDirectory();
        var environment = Scaledout(postgres.CreateDatabase().ConnectionString!);
        await using var web = await AppProcess.StartAsync(environment: environment, dataDirectory: shared.Path);
        using var photos = SharedPhotos.Subset(perClass: 12);
        await AppProcess.RunCommandAsync(["import", "--data", photos.Path, "--name", "shared photos", "--data-dir", shared.Path], environment);
        await using var workerA = await AppProcess.StartWorkerAsync("worker-a", shared.Path, environment);
        await using var workerB = await AppProcess.StartWorkerAsync("worker-b", shared.Path, environment);
        await using var browser = await Browser.LaunchAsync();
        var page = await web.NewSignedInPageAsync(browser.Instance, new BrowserNewPageOptions { BaseURL = web.BaseAddress.ToString() });
        // The test's own requests carry a token from the account page, as a script's would.
        using var http = await TokenClientAsync(web, page);
        string Logs() => $"web:\n{web.Log}\nworker-a:\n{workerA.Log}\nworker-b:\n{workerB.Log}";

        try
        {
            var dataSet = (await http.GetFromJsonAsync<List<DataSetRow>>("/api/datasets", WireJson.Options))!.Single().Id;
            // Two runs of one recipe on one data set: the same seed must give the same model, killed or not.
            var first = await LaunchAsync(http, dataSet);
            var second = await LaunchAsync(http, dataSet);

            // Each worker claims one (one run at a time per worker).
            var claimed = await WaitAsync(http, [first, second], runs => runs.All(r => r.Attempts is [_, ..]), "both runs to be claimed");
            var workers = claimed.ToDictionary(r => r.Id, r => r.Attempts![0].Worker);
            Assert.Equal(["worker-a", "worker-b"], workers.Values.Order());
            var victim = workers.Single(w => w.Value == "worker-a").Key;
            var survivor = workers.Single(w => w.Value == "worker-b").Key;

            // The run page on the web node shows the victim's epochs as worker-a finishes them.
            await page.GotoAsync($"/runs/{victim}");
            await Assertions.Expect(page.GetByTestId("epoch-row").Nth(1)).ToBeVisibleAsync(new() { Timeout = 120_000 });

            await WaitAsync(http, [victim], runs => runs[0].Epochs!.Count >= 2, "two finished epochs");
            await workerA.KillAsync();
            var killedAt = Stopwatch.StartNew();
            var kept = (await GetAsync(http, victim)).Epochs!.Count;
            output.WriteLine($"killed worker-a after {kept} finished epochs of run {victim}");

            var resumed = (await WaitAsync(http, [victim], runs => runs[0].Attempts!.Count == 2, "another worker to claim the run", TimeSpan.FromSeconds(120)))[0];
            output.WriteLine($"run {victim} claimed again by {resumed.Attempts![1].Worker} {killedAt.Elapsed.TotalSeconds:F1} s after the kill");
            var done = await WaitAsync(http, [victim, survivor], runs => runs.All(r => !IsActive(r)), "both runs to finish", TimeSpan.FromSeconds(240));
            var (resumedRun, plainRun) = (done.Single(r => r.Id == victim), done.Single(r => r.Id == survivor));

            Assert.All(done, r => Assert.True(r.Status == RunStatus.Succeeded, $"run {r.Id}: {r.Status} {r.Message}"));
            Assert.Equal(Enumerable.Range(1, Epochs), resumedRun.Epochs!.Select(e => e.Epoch));
            Assert.Collection(resumedRun.Attempts!,
                lost =>
                {
                    Assert.Equal(("worker-a", 1), (lost.Worker, lost.FromEpoch));
                    Assert.StartsWith("worker lost", lost.Outcome, StringComparison.Ordinal);
                },
                taken =>
                {
                    Assert.Equal(("worker-b", "succeeded"), (taken.Worker, taken.Outcome));
                    // Epoch rows are written once their checkpoint is: the next epoch, or one more when the kill
                    // fell between a checkpoint and its row (the resumed attempt records that row).
                    Assert.InRange(taken.FromEpoch, Math.Max(3, kept + 1), kept + 2);
                });
            Assert.Single(plainRun.Attempts!);

            // The same model as the run nobody killed: same weights, same test verdicts.
            Assert.Equal(await WeightsAsync(http, survivor), await WeightsAsync(http, victim));
            Assert.Equal(plainRun.Test, resumedRun.Test);

            // The page heard the resumed attempt's epochs live from worker-b.
            await Assertions.Expect(page.GetByTestId("epoch-row")).ToHaveCountAsync(Epochs);
            await Assertions.Expect(page.GetByTestId("run-attempt")).ToHaveCountAsync(2);
            await Browser.ScreenshotAsync(page, "distributed-resumed-run");

            // A cancel from the web node reaches the worker training the run, over the database's notifications.
            var stopped = await LaunchAsync(http, dataSet, epochs: 500);
            await WaitAsync(http, [stopped], runs => runs[0].Status == RunStatus.Running && runs[0].Epochs!.Count >= 1, "the long run to train an epoch");
            var cancel = await http.PostAsync(new Uri($"/api/runs/{stopped}/cancel", UriKind.Relative), null);
            Assert.True(cancel.IsSuccessStatusCode, await cancel.Content.ReadAsStringAsync());
            Assert.Equal(CancelOutcome.Stopping, (await cancel.Content.ReadFromJsonAsync<RunApi.CancelDocument>(WireJson.Options))!.Outcome);
            var cancelled = (await WaitAsync(http, [stopped], runs => runs[0].Status == RunStatus.Cancelled, "the cancelled run to stop", TimeSpan.FromSeconds(60)))[0];
            Assert.Matches("^Cancelled (during epoch [0-9]+, batch [0-9]+ of [0-9]+|after epoch [0-9]+)\\.$", cancelled.Message);
            Assert.InRange(cancelled.Epochs!.Count, 1, 499);
            Assert.Equal("worker-b", Assert.Single(cancelled.Attempts!).Worker);
            await workerB.WaitForLogAsync(new System.Text.RegularExpressions.Regex($"Stopping run ({stopped}): cancelled from the dashboard"));
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            await Browser.ScreenshotAsync(page, "distributed-failure");
            throw new InvalidOperationException($"{e.Message}\n{Logs()}", e);
        }
        catch (Xunit.Sdk.XunitException)
        {
            await Browser.ScreenshotAsync(page, "distributed-failure");
            output.WriteLine(Logs());
            throw;
        }
    }

    /// <summary>
    /// A run whose job the queue lost is queued again by the web node's sweep. A worker paused
    /// (SIGSTOP) past its claim's invisibility timeout loses its run to the other worker, and when it
    /// goes on (SIGCONT) it stops its copy without writing to the run or ending the other's job. Then
    /// a cancel recorded in the database with no notification sent (one a dropped connection lost)
    /// still stops the run.
    /// </summary>
    [Fact]
    public async Task ARunThatLostItsJobIsQueuedAgainAWorkerPausedPastItsClaimLeavesItsRunAndARecordedCancelStopsIt()
    {
        using var shared = new TempDirectory();
        var connection = postgres.CreateDatabase().ConnectionString!;
        var environment = Scaledout(connection);
        environment["Workers__RunCheckInterval"] = "00:00:01";
        environment["Workers__SweepInterval"] = "00:00:02";
        environment["Workers__SweepGrace"] = "00:00:03";
        await using var web = await AppProcess.StartAsync(environment: environment, dataDirectory: shared.Path);
        using var photos = SharedPhotos.Subset(perClass: 12);
        await AppProcess.RunCommandAsync(["import", "--data", photos.Path, "--name", "shared photos", "--data-dir", shared.Path], environment);
        await using var browser = await Browser.LaunchAsync();
        var page = await web.NewSignedInPageAsync(browser.Instance, new BrowserNewPageOptions { BaseURL = web.BaseAddress.ToString() });
        using var http = await TokenClientAsync(web, page);
        var dataSet = (await http.GetFromJsonAsync<List<DataSetRow>>("/api/datasets", WireJson.Options))!.Single().Id;

        // Queued before any worker runs, and its job lost from the queue.
        var stranded = await LaunchAsync(http, dataSet, epochs: 2);
        await using (var database = new Npgsql.NpgsqlConnection(connection))
        {
            await database.OpenAsync();
            await using var lose = new Npgsql.NpgsqlCommand("DELETE FROM hangfire.jobqueue", database);
            Assert.Equal(1, await lose.ExecuteNonQueryAsync());
        }

        await using var workerA = await AppProcess.StartWorkerAsync("worker-a", shared.Path, environment);
        await using var workerB = await AppProcess.StartWorkerAsync("worker-b", shared.Path, environment);
        string Logs() => $"web:\n{web.Log}\nworker-a:\n{workerA.Log}\nworker-b:\n{workerB.Log}";

        try
        {
            await web.WaitForLogAsync(new System.Text.RegularExpressions.Regex($"Run ({stranded}) is waiting or training with no job in the queue to carry it; queued again"));
            Assert.Equal(RunStatus.Succeeded, (await WaitAsync(http, [stranded], runs => !IsActive(runs[0]), "the run queued again to finish"))[0].Status);

            var run = await LaunchAsync(http, dataSet, epochs: 500);
            var first = (await WaitAsync(http, [run], runs => runs[0].Attempts is [_, ..] && runs[0].Epochs!.Count >= 1, "a worker to train an epoch"))[0];
            var (paused, other) = first.Attempts![0].Worker == "worker-a" ? (workerA, workerB) : (workerB, workerA);
            await paused.PauseAsync();
            var takenOver = (await WaitAsync(http, [run], runs => runs[0].Attempts!.Count == 2 && runs[0].Epochs!.Count >= runs[0].Attempts![1].FromEpoch, "the other worker to take the run over and train an epoch", TimeSpan.FromSeconds(120)))[0];
            var lostOutcome = takenOver.Attempts![0].Outcome;
            Assert.StartsWith("worker lost after", lostOutcome, StringComparison.Ordinal);
            Assert.Equal(first.Attempts[0].Worker == "worker-a" ? "worker-b" : "worker-a", takenOver.Attempts[1].Worker);

            await paused.ResumeAsync();
            await paused.WaitForLogAsync(new System.Text.RegularExpressions.Regex($"Run ({run}) was taken over by another worker"));
            // Its copy of the job ends as an aborted one: the job stays the other worker's.
            await paused.WaitForLogAsync(new System.Text.RegularExpressions.Regex($"Run ({run}): the queue stopped this worker's copy of its job"));
            var epochsThen = (await GetAsync(http, run)).Epochs!.Count;
            var goingOn = (await WaitAsync(http, [run], runs => runs[0].Epochs!.Count >= epochsThen + 2, "the other worker to go on training"))[0];
            Assert.Equal(RunStatus.Running, goingOn.Status);
            Assert.Equal(lostOutcome, goingOn.Attempts![0].Outcome);
            Assert.Equal(2, goingOn.Attempts.Count);
            Assert.Null(goingOn.Attempts[1].Outcome);
            Assert.Equal(Enumerable.Range(1, goingOn.Epochs!.Count), goingOn.Epochs!.Select(e => e.Epoch));

            // A cancel whose notification never went out: only the row says so.
            await using (var database = new Npgsql.NpgsqlConnection(connection))
            {
                await database.OpenAsync();
                await using var cancel = new Npgsql.NpgsqlCommand("""UPDATE "TrainingRuns" SET "CancelRequestedAt" = now() WHERE "Id" = @id""", database);
                cancel.Parameters.AddWithValue("id", run);
                Assert.Equal(1, await cancel.ExecuteNonQueryAsync());
            }
            var cancelled = (await WaitAsync(http, [run], runs => runs[0].Status == RunStatus.Cancelled, "the recorded cancel to stop the run", TimeSpan.FromSeconds(60)))[0];
            Assert.Matches("^Cancelled (during epoch [0-9]+, batch [0-9]+ of [0-9]+|after epoch [0-9]+)\\.$", cancelled.Message);
            await other.WaitForLogAsync(new System.Text.RegularExpressions.Regex($"Stopping run ({run}): its cancel is recorded"));
            Assert.Equal([lostOutcome, "cancelled"], cancelled.Attempts!.Select(a => a.Outcome));
            // The sweep queued again only the run that had lost its job, never one a job carried.
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(web.Log, "with no job in the queue to carry it"));
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{e.Message}\n{Logs()}", e);
        }
        catch (Xunit.Sdk.XunitException)
        {
            output.WriteLine(Logs());
            throw;
        }
    }

    /// <summary>The settings every process of the scaled-out profile shares, over the database at <paramref name="connection"/>.</summary>
    static Dictionary<string, string> Scaledout(string connection) => new()
    {
        ["StorageOptions__Provider"] = "Postgres",
        ["ConnectionStrings__HappySad"] = connection,
        ["Workers__Mode"] = "Hangfire",
        // A dead worker's run is claimed again after this; live workers keep extending their claim.
        ["Workers__InvisibilityTimeout"] = "00:00:15",
        ["Workers__QueuePollInterval"] = "00:00:01",
    };

    /// <summary>A client of the web node's API with a token made on the account page, as a script's would be.</summary>
    static async Task<HttpClient> TokenClientAsync(AppProcess web, IPage page)
    {
        await page.GotoAsync("/account");
        await page.GetByTestId("token-name").FillAsync("distributed test");
        await page.GetByTestId("create-token").ClickAsync();
        var http = new HttpClient { BaseAddress = web.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", await page.GetByTestId("new-token").TextContentAsync());
        return http;
    }

    sealed record DataSetRow(int Id);

    static bool IsActive(RunDocument run) => run.Status is RunStatus.Queued or RunStatus.Running;

    static async Task<int> LaunchAsync(HttpClient http, int dataSet, int epochs = Epochs)
    {
        var response = await http.PostAsJsonAsync("/api/runs", new { data_set_id = dataSet, architecture = "seed-cnn", epochs, batch_size = 8, seed = 7 });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RunDocument>(WireJson.Options))!.Id;
    }

    static async Task<RunDocument> GetAsync(HttpClient http, int id) =>
        (await http.GetFromJsonAsync<RunDocument>($"/api/runs/{id}", WireJson.Options))!;

    /// <summary>Asks the API until <paramref name="condition"/> holds for the runs (a failed run ends the wait at once).</summary>
    static async Task<IReadOnlyList<RunDocument>> WaitAsync(HttpClient http, int[] ids, Func<IReadOnlyList<RunDocument>, bool> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var runs = await Task.WhenAll(ids.Select(id => GetAsync(http, id)));
            if (condition(runs))
                return runs;
            if (runs.FirstOrDefault(r => r.Status is RunStatus.Failed or RunStatus.Interrupted or RunStatus.Cancelled) is { } ended)
                throw new InvalidOperationException($"waiting for {what}, run {ended.Id} ended {ended.Status}: {ended.Message}");
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(90)))
                throw new TimeoutException($"waited {clock.Elapsed.TotalSeconds:F0} s for {what}");
            await Task.Delay(250);
        }
    }

    /// <summary>The weights of a run's model file (the card beside them names the run and its times).</summary>
    static async Task<byte[]> WeightsAsync(HttpClient http, int run)
    {
        await using var file = await http.GetStreamAsync($"/api/runs/{run}/model");
        using var copy = new MemoryStream();
        await file.CopyToAsync(copy);
        using var zip = new ZipArchive(copy);
        await using var weights = zip.GetEntry("weights.bin")!.Open();
        using var bytes = new MemoryStream();
        await weights.CopyToAsync(bytes);
        return bytes.ToArray();
    }
}
