using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using HappySad.Tests.Support;
using HappySad.Training.Persistence;
using HappySad.Training.Training;
using HappySad.Web.Api;
using HappySad.Web.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Runs;
using HappySad.Web.Storage;
using SkiaSharp;

namespace HappySad.Tests.Web.Runs;

/// <summary>The hosted worker end to end inside the app: launch, run, record, cancel, fail, delete.</summary>
/// <remarks>
/// The tests of the base class, which launch, record, cancel and fail runs, run on both providers;
/// those that only train differently stay on SQLite (<see cref="OnSqlite"/>) to keep the suite short.
/// </remarks>
public abstract class TrainingRunTests(TestDatabase database) : IDisposable
{
    // Every batch reported, so tests can reason about batches.
    readonly HappySadAppFactory _app = new(new Dictionary<string, string> { ["TrainingOptions:ProgressIntervalMilliseconds"] = "0" }, database: database);

    [Collection(TorchTraining.Name)]
    public sealed class OnPostgres(PostgresServer server) : TrainingRunTests(server.CreateDatabase());

    [Collection(TorchTraining.Name)]
    public sealed class OnSqlite() : TrainingRunTests(TestDatabase.Sqlite)
    {
        [Fact]
        public async Task ARunKeepsTheSnapshotItStartedWithWhilePhotosChange()
        {
            var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(12);
            var dataSets = _app.Service<DataSetService>();
            var before = (await dataSets.PageAsync(dataSetId, null, trashed: false, 0, 100)).Photos;
            var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var first = await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 2, BatchSize = 4 });
            // Once the first batch has trained, trash a photo and add another while the run goes on.
            using (_app.Service<RunEvents>().Subscribe(first.Id, new RunObserver(onBatch: async m =>
            {
                if (m.Epoch != 1 || m.Batch != 1)
                    return;
                await dataSets.TrashAsync([before[0].Id]);
                await using var added = new MemoryStream(TestImages.Blocks(77, 200, 200));
                await _app.Service<PhotoImporter>().ImportFileAsync(dataSetId, "new.png", added, "happy");
                changed.TrySetResult();
            })))
            {
                var run = await _app.WaitForRunAsync(first.Id);
                await changed.Task;
                Assert.Equal(RunStatus.Succeeded, run.Status);
            }

            var images = await Runs.ImagesAsync(first.Id);
            Assert.Equal(before.Select(p => p.Id).Order(), images.Select(i => i.PhotoId!.Value).Order());

            // A second run sees the changed data, and its fingerprint says so.
            var second = await _app.WaitForRunAsync((await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 1, BatchSize = 8 })).Id);
            Assert.Equal(RunStatus.Succeeded, second.Status);
            Assert.NotEqual((await Runs.GetAsync(first.Id))!.SnapshotHash, second.SnapshotHash);
            Assert.DoesNotContain(before[0].Id, (await Runs.ImagesAsync(second.Id)).Select(i => i.PhotoId));
        }

        [Fact]
        public async Task ARunDecodesIntoThePixelCacheWithProgressAndTheNextRunOnTheSamePhotosReusesIt()
        {
            var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(12);
            var cacheFolder = _app.Service<StoragePaths>().PixelCache;

            async Task<(TrainingRun Run, List<PreparationProgressMessage> Heard)> TrainAsync(RunRecipe recipe)
            {
                var heard = new ConcurrentQueue<PreparationProgressMessage>();
                var run = await Runs.LaunchAsync(dataSetId, recipe);
                using (_app.Service<RunEvents>().Subscribe(run.Id, new RunObserver(onPreparation: m =>
                {
                    heard.Enqueue(m);
                    return Task.CompletedTask;
                })))
                    run = await _app.WaitForRunAsync(run.Id);
                Assert.Equal(RunStatus.Succeeded, run.Status);
                return (run, [.. heard]);
            }

            var (_, first) = await TrainAsync(new RunRecipe { Epochs = 1, BatchSize = 8 });
            Assert.NotEmpty(first);
            Assert.All(first, m => Assert.Equal(24, m.Total));
            Assert.Contains(first, m => m.Done == 24);
            var cache = Assert.Single(Directory.GetFiles(cacheFolder, "*" + HappySad.Training.Data.PixelCache.Extension));
            Assert.Equal(4096 + (24 * 256 * 256 * 3), new FileInfo(cache).Length, tolerance: 8_192);

            // Another recipe, the same photos prepared the same way: nothing decoded, nothing to wait for.
            var (_, second) = await TrainAsync(new RunRecipe { Epochs = 1, BatchSize = 4, Seed = 2 });
            Assert.Empty(second);
            Assert.Equal(cache, Assert.Single(Directory.GetFiles(cacheFolder, "*" + HappySad.Training.Data.PixelCache.Extension)));

            // A cache cut short (a full disk, a crash mid-copy) is built again, never read.
            using (var file = new FileStream(cache, FileMode.Open))
                file.SetLength(file.Length / 2);
            var (third, rebuilt) = await TrainAsync(new RunRecipe { Epochs = 1, BatchSize = 8 });
            Assert.Contains(rebuilt, m => m.Done == 24);
            Assert.Equal(4096 + (24 * 256 * 256 * 3), new FileInfo(cache).Length, tolerance: 8_192);
            Assert.Equal(24, third.TrainImages + third.ValidationImages + third.TestImages);
        }

        [Fact]
        public async Task ARunKeepsEachNearDuplicateGroupInOneSplitAndRecordsTheGroups()
        {
            // Twelve pictures per class, each uploaded twice (the second re-sized and re-compressed), and one also in the other class.
            var dataSetId = await _app.CreateDataSetAsync();
            var importer = _app.Service<PhotoImporter>();
            for (var i = 0; i < 24; i++)
            {
                var className = i < 12 ? "happy" : "sad";
                var original = TestImages.Blocks(i, 300, 300);
                using var bitmap = SKBitmap.Decode(original);
                using var small = bitmap.Resize(new SKImageInfo(150, 150), new SKSamplingOptions(SKFilterMode.Linear));
                foreach (var (name, bytes) in new[] { ($"{i}.png", original), ($"{i}-copy.jpg", TestImages.Encode(small, SKEncodedImageFormat.Jpeg, 70)) })
                {
                    await using var stream = new MemoryStream(bytes);
                    Assert.Equal(UploadStatus.Accepted, (await importer.ImportFileAsync(dataSetId, name, stream, className)).Status);
                }
            }
            await using (var conflict = new MemoryStream(TestImages.Blocks(0, 200, 200, SKEncodedImageFormat.Jpeg, 80)))
                await importer.ImportFileAsync(dataSetId, "0-as-sad.jpg", conflict, "sad");

            var run = await _app.WaitForRunAsync((await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 1, BatchSize = 16 })).Id);

            Assert.True(run.Status == RunStatus.Succeeded, run.Message);
            Assert.Equal((24, 49, 1), (run.NearDuplicateGroups, run.NearDuplicatePhotos, run.LabelConflicts));
            var images = await Runs.ImagesAsync(run.Id);
            var groups = images.Where(i => i.Group is not null).GroupBy(i => i.Group).ToList();
            Assert.Equal(24, groups.Count);
            Assert.All(groups, g => Assert.Single(g.Select(i => i.Split).Distinct()));
            Assert.Equal(3, groups.Single(g => g.Any(i => i.Name == "0-as-sad.jpg")).Count());
            // Groups of two cannot fill the held-out shares exactly, but the split stays near 70/20/10.
            Assert.InRange(run.TestImages, 2, 8);
            Assert.InRange(run.ValidationImages, 6, 14);
        }

        [Fact]
        public async Task LaunchingRefusesWhatCannotWorkWithEveryReason()
        {
            var dataSetId = await _app.CreateDataSetAsync();
            await using (var photo = new MemoryStream(TestImages.Blocks(5)))
                await _app.Service<PhotoImporter>().ImportFileAsync(dataSetId, "only.png", photo, "happy");

            var refused = await Assert.ThrowsAsync<RunRecipeException>(() => Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 0, Device = HappySad.Training.Native.DevicePreference.Cuda }));

            Assert.Equal(
                [
                    "Epochs must be between 1 and 1000 (got 0).",
                    RunRecipe.CudaUnavailable,
                    "Class 'happy' of 'photos' has 1 usable photo; a run needs at least 10 per class.",
                    "Class 'sad' of 'photos' has 0 usable photos; a run needs at least 10 per class.",
                ],
                refused.Problems);
            Assert.Empty(await Runs.ListAsync());

            using var client = _app.CreateClient();
            var response = await client.PostAsJsonAsync("/api/runs", new { dataSetId = 999, epochs = 2 }, WireJson.Options);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("Data set 999 does not exist.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        [Fact]
        public async Task TheBestPresetTrainsTheFaceModelRecordsItsRecipeAndPredictsOnTheFace()
        {
            var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(12);
            using var client = _app.CreateClient();

            var unknown = await client.PostAsJsonAsync("/api/runs", new { dataSetId, preset = "fastest" }, WireJson.Options);
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
            Assert.Contains("Unknown preset 'fastest'", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            var response = await client.PostAsJsonAsync("/api/runs", new { dataSetId, preset = "best" }, WireJson.Options);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var launched = await response.Content.ReadFromJsonAsync<JsonElement>();
            var settings = launched.GetProperty("settings");
            Assert.Equal("face-verdict-pair-hands", settings.GetProperty("architecture").GetString());
            Assert.Equal("best", settings.GetProperty("preset").GetString());
            Assert.Equal(JsonValueKind.Null, settings.GetProperty("crop").ValueKind); // the model's own: face-and-whole
            Assert.False(settings.GetProperty("augment").GetBoolean());
            Assert.Equal(1e-2, settings.GetProperty("learning_rate").GetDouble());

            var run = await _app.WaitForRunAsync(launched.GetProperty("id").GetInt32());
            Assert.True(run.Status == RunStatus.Succeeded, run.Message);
            Assert.InRange(run.FacesFound!.Value, 1, 23);
            Assert.Contains(run.Recipe.Patience, new[] { 8 });
            Assert.True(run.History.Count <= run.Recipe.Epochs);
            if (run.History.Count < run.Recipe.Epochs)
                Assert.NotNull(run.RestoredEpoch);

            var portrait = await File.ReadAllBytesAsync(Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg"));
            var predicted = await client.PostAsync($"/api/models/run-{run.Id}/predict", Multipart.Files(("portrait.jpg", portrait)));
            var verdict = (await predicted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("files")[0];
            Assert.Equal("face", verdict.GetProperty("region").GetString());
            var face = verdict.GetProperty("face");
            Assert.InRange(face.GetProperty("width").GetDouble(), 0.05, 0.9);
            Assert.True(verdict.GetProperty("width").GetInt32() > 0);
            Assert.Equal(verdict.GetProperty("probability").GetDouble() < 0.65, verdict.GetProperty("low_confidence").GetBoolean());
        }

        [Fact]
        public async Task ACropTheModelCannotTakeIsRefusedAndTheCommandLineSpellingIsAccepted()
        {
            var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(10);
            using var client = _app.CreateClient();

            var refused = await client.PostAsJsonAsync("/api/runs", new { dataSetId, architecture = "seed-cnn", crop = "face-and-whole" }, WireJson.Options);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("The seed-cnn model takes one view of a photo", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            var accepted = await client.PostAsJsonAsync("/api/runs", new { dataSetId, architecture = "face-and-whole", crop = "face-and-whole", epochs = 1 }, WireJson.Options);
            Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
            var launched = await accepted.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("face-and-whole", launched.GetProperty("settings").GetProperty("crop").GetString());
            var run = await _app.WaitForRunAsync(launched.GetProperty("id").GetInt32());
            Assert.True(run.Status == RunStatus.Succeeded, run.Message);
        }

        [Fact]
        public async Task DeletingARunRemovesItsModelButNotWhileItIsActive()
        {
            var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(10);
            var run = await _app.WaitForRunAsync((await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 1 })).Id);
            var folder = _app.Service<StoragePaths>().Run(run.Id);
            Assert.True(File.Exists(_app.Service<StoragePaths>().Absolute(run.ModelPath!)));

            using var client = _app.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/runs/{run.Id}/model")).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/runs/{run.Id}")).StatusCode);
            Assert.False(Directory.Exists(folder));
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/runs/{run.Id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/runs/{run.Id}")).StatusCode);

            var active = await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 50, BatchSize = 2 });
            Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync($"/api/runs/{active.Id}")).StatusCode);
            await Runs.CancelAsync(active.Id);
            await _app.WaitForRunAsync(active.Id);
        }
    }

    RunService Runs => _app.Service<RunService>();

    [Fact]
    public async Task ASucceededRunRecordsItsEpochsSnapshotTestVerdictsAndModel()
    {
        var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(12);
        var statuses = new ConcurrentQueue<RunStatus>();
        using var _ = _app.Service<RunEvents>().SubscribeAll(new RunObserver(onStatus: m =>
        {
            statuses.Enqueue(m.Status);
            return Task.CompletedTask;
        }));

        var launched = await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 2, BatchSize = 8 });
        Assert.Equal(RunStatus.Queued, launched.Status);
        var run = await _app.WaitForRunAsync(launched.Id);

        Assert.True(run.Status == RunStatus.Succeeded, run.Message);
        Assert.Equal([RunStatus.Queued, RunStatus.Running, RunStatus.Succeeded], statuses);
        Assert.Equal([1, 2], run.History.Select(e => e.Epoch));
        Assert.All(run.History, e => Assert.True(e.Loss > 0 && e.ValLoss > 0 && e.Seconds > 0));
        Assert.Equal("cpu", run.Device);
        Assert.NotNull(run.StartedAt);
        Assert.True(run.FinishedAt >= run.StartedAt);

        // The snapshot: every usable photo of the data set, by id and content hash, in three splits.
        var photos = (await _app.Service<DataSetService>().PageAsync(dataSetId, null, trashed: false, 0, 100)).Photos;
        var images = await Runs.ImagesAsync(run.Id);
        Assert.Equal(photos.Select(p => (p.Id, p.Sha256)).Order(), images.Select(i => (i.PhotoId!.Value, i.Sha256)).Order());
        Assert.Equal(images.Count, run.TrainImages + run.ValidationImages + run.TestImages);
        Assert.Equal(run.TestImages, images.Count(i => i.Split == RunSplit.Test));
        Assert.All(images, i => Assert.Equal(i.Split == RunSplit.Test, i.Predicted is not null && i.Probability is not null));
        Assert.Equal(["happy", "sad"], run.ClassNames);

        // The test metrics agree with the per-image verdicts stored beside them.
        var test = images.Where(i => i.Split == RunSplit.Test).ToList();
        Assert.Equal(test.Count(i => !i.IsMistake) / (double)test.Count, run.TestAccuracy!.Value, 9);
        Assert.Equal(test.Count(i => i.Label == 1 && i.Predicted == 1), run.TruePositives);
        foreach (var mistake in test.Where(i => i.IsMistake))
            Assert.True(File.Exists(_app.Service<StoragePaths>().RunTestImage(run.Id, mistake.Id)));

        // The model file is where the run says, with the size and hash it says, and loads.
        var modelFile = _app.Service<StoragePaths>().Absolute(run.ModelPath!);
        Assert.Equal(new FileInfo(modelFile).Length, run.ModelBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(modelFile))), run.ModelSha256);
        Assert.Equal(["happy", "sad"], ModelStore.ReadCard(modelFile).ClassNames);
    }

    [Fact]
    public async Task CancellingARunningRunStopsItWithinOneBatch()
    {
        var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(12);
        var run = await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 20, BatchSize = 2 });
        var batches = 0;
        BatchProgressMessage? last = null;
        var cancelled = new TaskCompletionSource<(CancelOutcome Outcome, int Batches)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = _app.Service<RunEvents>().Subscribe(run.Id, new RunObserver(onBatch: async m =>
        {
            // Called on the training thread after each batch, which goes on while the cancel travels (a few database round trips).
            last = m;
            if (Interlocked.Increment(ref batches) == 3)
            {
                var outcome = await Runs.CancelAsync(run.Id);
                // Once CancelAsync has returned, the trainer's token is cancelled: at most the batch under way ends after this.
                cancelled.SetResult((outcome, Volatile.Read(ref batches)));
            }
        }));

        var finished = await _app.WaitForRunAsync(run.Id);

        var (outcome, batchesWhenCancelled) = await cancelled.Task;
        Assert.Equal(CancelOutcome.Stopping, outcome);
        Assert.Equal(RunStatus.Cancelled, finished.Status);
        Assert.InRange(batches, batchesWhenCancelled, batchesWhenCancelled + 1);
        // It stopped where the last batch left it (or just after that batch's epoch was saved): finished epochs are kept, no model is written.
        Assert.NotNull(last);
        var saved = finished.History.Select(e => e.Epoch).ToList();
        if (saved.Count == last.Epoch)
            Assert.Equal($"Cancelled after epoch {last.Epoch}.", finished.Message);
        else
            Assert.Equal($"Cancelled during epoch {last.Epoch}, batch {last.Batch} of {last.BatchesPerEpoch}.", finished.Message);
        Assert.Equal(Enumerable.Range(1, saved.Count), saved);
        Assert.InRange(saved.Count, last.Epoch - 1, last.Epoch);
        Assert.Null(finished.ModelPath);
        Assert.Equal(CancelOutcome.AlreadyFinished, await Runs.CancelAsync(run.Id));
    }

    [Fact]
    public async Task CancellingAQueuedRunMeansItNeverStarts()
    {
        var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(12);
        var busy = await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 50, BatchSize = 2 });
        var training = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_app.Service<RunEvents>().Subscribe(busy.Id, new RunObserver(onBatch: _ =>
        {
            training.TrySetResult();
            return Task.CompletedTask;
        })))
        {
            await training.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        // One run trains at a time, so this one waits in the queue behind the busy one.
        var waiting = await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 1 });

        Assert.Equal(CancelOutcome.Cancelled, await Runs.CancelAsync(waiting.Id));
        Assert.Equal(CancelOutcome.Stopping, await Runs.CancelAsync(busy.Id));
        await _app.WaitForRunAsync(busy.Id);

        var never = (await Runs.GetAsync(waiting.Id))!;
        Assert.Equal(RunStatus.Cancelled, never.Status);
        Assert.Null(never.StartedAt);
        Assert.Null(never.SnapshotHash);
        Assert.Empty(await Runs.ImagesAsync(waiting.Id));
    }

    [Fact]
    public async Task ARunThatCannotTrainIsRecordedAsFailedWithTheReason()
    {
        var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(12);
        // The database still lists 12 sad photos, but five files are gone from disk.
        var sad = (await _app.Service<DataSetService>().PageAsync(dataSetId, "sad", trashed: false, 0, 100)).Photos;
        foreach (var photo in sad.Take(5))
            File.Delete(_app.Service<StoragePaths>().PhotoFile(photo));

        var run = await _app.WaitForRunAsync((await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 2 })).Id);

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("Class 'sad' has 7 usable images; training needs at least 10 per class", run.Message);
        Assert.NotNull(run.FinishedAt);

        // The worker goes on with the next run.
        var next = await _app.CreateDataSetFromSharedPhotosAsync(10, "complete");
        Assert.Equal(RunStatus.Succeeded, (await _app.WaitForRunAsync((await Runs.LaunchAsync(next, new RunRecipe { Epochs = 1 })).Id)).Status);
    }

    [Fact]
    public async Task DeletingTheDataSetKeepsItsRunsAndTheirNames()
    {
        var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(10, "gone soon");
        var run = await _app.WaitForRunAsync((await Runs.LaunchAsync(dataSetId, new RunRecipe { Epochs = 1 })).Id);

        await _app.Service<DataSetService>().DeleteAsync(dataSetId);

        var kept = (await Runs.GetAsync(run.Id))!;
        Assert.Null(kept.DataSetId);
        Assert.Equal("gone soon", kept.DataName);
        Assert.Equal(run.SnapshotHash, kept.SnapshotHash);
        Assert.NotEmpty(await Runs.ImagesAsync(run.Id));
    }

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }
}
