using System.Globalization;
using HappySad.Tests.Support;
using HappySad.Training.Training;
using HappySad.Web.Cli;
using HappySad.Web.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HappySad.Tests.Web.Storage;

/// <summary>What a crash leaves in the data directory, and what the owner's next start deletes or keeps.</summary>
public sealed class StartUpCleanupTests
{
    [Fact]
    public async Task TheOwnersStartDeletesSpooledUploadsTemporaryFilesAndModelsOfRunsThatDidNotSucceed()
    {
        using var data = new TempDirectory();
        int dataSetId;
        using (var first = new HappySadAppFactory(dataDirectory: data.Path))
            dataSetId = await first.CreateDataSetAsync();
        int failed, cutOff, interrupted, succeeded;
        await using (var context = TestDatabase.Sqlite.Open(data.Path))
        {
            var runs = new[] { Run(dataSetId, RunStatus.Failed), Run(dataSetId, RunStatus.Running), Run(dataSetId, RunStatus.Interrupted), Run(dataSetId, RunStatus.Succeeded) };
            context.TrainingRuns.AddRange(runs);
            await context.SaveChangesAsync();
            (failed, cutOff, interrupted, succeeded) = (runs[0].Id, runs[1].Id, runs[2].Id, runs[3].Id);
        }

        // A killed zip upload's spool, interrupted atomic writes, and what runs that never succeeded left.
        var spool = Plant(data.Path, $"datasets/{dataSetId}/.incoming/{Guid.NewGuid():N}.zip", 40_000);
        var thumbnail = Plant(data.Path, $"datasets/{dataSetId}/.thumbs/a.png.jpg.{Guid.NewGuid():N}.tmp", 100);
        var importedModel = Plant(data.Path, $"models/.{Guid.NewGuid():N}.tmp", 100);
        var failedModel = Plant(data.Path, $"runs/{failed}/model.hsmodel", 5_000);
        var failedTestImage = Plant(data.Path, $"runs/{failed}/test/7.jpg", 300);
        var failedCheckpoint = Plant(data.Path, $"runs/{failed}/training.checkpoint", 5_000);
        var halfSavedModel = Plant(data.Path, $"runs/{cutOff}/.model.hsmodel.{Guid.NewGuid():N}.tmp", 2_000);
        var cutOffModel = Plant(data.Path, $"runs/{cutOff}/model.hsmodel", 5_000);
        var halfSavedCheckpoint = Plant(data.Path, $"runs/{interrupted}/training.checkpoint.{Guid.NewGuid():N}.tmp", 2_000);
        // RunRecovery queues these two again, to go on from their checkpoints.
        var cutOffCheckpoint = Plant(data.Path, $"runs/{cutOff}/training.checkpoint", 5_000);
        var interruptedCheckpoint = Plant(data.Path, $"runs/{interrupted}/training.checkpoint", 5_000);
        var succeededModel = Plant(data.Path, $"runs/{succeeded}/model.hsmodel", 5_000);
        var succeededTestImage = Plant(data.Path, $"runs/{succeeded}/test/3.jpg", 300);

        await using (var storage = await AppStorage.OpenAsync(data.Path, CancellationToken.None))
            Assert.Null(storage.Owner);

        Assert.All([spool, thumbnail, importedModel, failedModel, failedTestImage, failedCheckpoint, halfSavedModel, cutOffModel, halfSavedCheckpoint],
            file => Assert.False(File.Exists(file), $"{file} should be deleted"));
        Assert.All([cutOffCheckpoint, interruptedCheckpoint, succeededModel, succeededTestImage],
            file => Assert.True(File.Exists(file), $"{file} should be kept"));
        // Deleted, not moved aside: nothing of it lands in lost+found.
        Assert.False(Directory.Exists(Path.Combine(data.Path, "lost+found")));
    }

    [Fact]
    public async Task TheCleanUpIsLoggedWithItsCountsAndBytes()
    {
        using var data = new TempDirectory();
        using (var first = new HappySadAppFactory(dataDirectory: data.Path))
            await first.CreateDataSetAsync();
        Plant(data.Path, "datasets/1/.incoming/a.zip", 1_000);
        Plant(data.Path, "datasets/1/.incoming/b.part", 500);
        Plant(data.Path, "models/.x.tmp", 24);

        var log = new LogLines();
        using var app = new HappySadAppFactory(dataDirectory: data.Path);
        using var restarted = app.WithWebHostBuilder(b => b.ConfigureLogging(logging => logging.AddProvider(log)));
        _ = restarted.Services;

        var line = Assert.Single(log.Lines, l => l.StartsWith("Start-up clean-up", StringComparison.Ordinal));
        Assert.Equal("Start-up clean-up deleted 3 leftovers, 1,524 bytes: 2 spooled uploads, 1 temporary files", line);
    }

    [Theory]
    [InlineData(30, new[] { "by hand", "recent" })]
    [InlineData(0, new[] { "by hand", "old", "recent" })]
    public async Task LostAndFoundFoldersOlderThanTheRetentionAreDeleted(int retentionDays, string[] kept)
    {
        using var data = new TempDirectory();
        var now = DateTime.UtcNow;
        var folders = new Dictionary<string, string>
        {
            ["old"] = now.AddDays(-31).ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture),
            ["recent"] = now.AddDays(-29).ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture),
            ["by hand"] = "rescued photos",
        };
        foreach (var (what, folder) in folders)
            Plant(data.Path, $"lost+found/{folder}/{what}.jpg", 100);

        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["StorageOptions:LostAndFoundRetentionDays"] = $"{retentionDays}" }, data.Path);
        _ = app.Services;

        var left = Directory.EnumerateFiles(Path.Combine(data.Path, "lost+found"), "*", SearchOption.AllDirectories)
            .Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(kept, left);
    }

    /// <summary>A cancel recorded before a stop or a crash is honoured at the next start: the run is not queued again from its checkpoint.</summary>
    [Fact]
    public async Task ARunCancelledBeforeTheAppStoppedIsNotTrainedAgainFromItsCheckpoint()
    {
        using var data = new TempDirectory();
        int dataSetId;
        using (var first = new HappySadAppFactory(dataDirectory: data.Path))
            dataSetId = await first.CreateDataSetAsync();
        int cancelled, interrupted;
        await using (var context = TestDatabase.Sqlite.Open(data.Path))
        {
            var runs = new[] { Run(dataSetId, RunStatus.Running), Run(dataSetId, RunStatus.Interrupted) };
            foreach (var run in runs)
                run.CancelRequestedAt = DateTimeOffset.UtcNow;
            context.TrainingRuns.AddRange(runs);
            await context.SaveChangesAsync();
            (cancelled, interrupted) = (runs[0].Id, runs[1].Id);
        }
        foreach (var id in new[] { cancelled, interrupted })
            Plant(data.Path, $"runs/{id}/training.checkpoint", 5_000);

        using var app = new HappySadAppFactory(dataDirectory: data.Path);
        _ = app.Services;

        // The worker recovers in the background once the app has started: wait for it to have written.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<TrainingRun> recovered;
        do
        {
            await using var context = TestDatabase.Sqlite.Open(data.Path);
            recovered = await context.TrainingRuns.AsNoTracking().Where(r => r.Id == cancelled || r.Id == interrupted).ToListAsync();
        }
        while (recovered.Any(r => r.Status is RunStatus.Running or RunStatus.Interrupted) && DateTime.UtcNow < deadline && await Task.Delay(50).ContinueWith(_ => true));
        Assert.All(recovered, run =>
        {
            Assert.Equal(RunStatus.Cancelled, run.Status);
            Assert.StartsWith("Cancelled; the app stopped before the run did", run.Message, StringComparison.Ordinal);
        });
        Assert.Equal(2, recovered.Count);
    }

    static string Plant(string root, string relative, int bytes)
    {
        var file = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, new byte[bytes]);
        return file;
    }

    static TrainingRun Run(int dataSetId, RunStatus status) => new()
    {
        DataSetId = dataSetId,
        DataName = "photos",
        Status = status,
        Source = RunSource.Dashboard,
        Recipe = new RunRecipe { Epochs = 2, BatchSize = 8 },
        CreatedAt = DateTimeOffset.UtcNow,
    };
}

