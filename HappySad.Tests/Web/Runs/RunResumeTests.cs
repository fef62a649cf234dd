using HappySad.Tests.Support;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Runs;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Tests.Web.Runs;

/// <summary>
/// A run stopped after epoch 2 goes on from epoch 3 at the next start even when the photos changed
/// under it: one it trains on deleted while it trained, or one it could not read as it started.
/// </summary>
[Collection(TorchTraining.Name)]
public sealed class RunResumeTests
{
    [Fact]
    public async Task ARunGoesOnFromItsCheckpointAfterAPhotoItTrainsOnWasDeleted()
    {
        using var data = new TempDirectory();
        var runId = await StopAfterEpochTwoAsync(data.Path, beforeLaunch: null, afterFirstEpoch: async (app, dataSetId) =>
        {
            // Deleted for good while the run trains on it: trashed, then the trash emptied.
            var photo = await FirstPhotoAsync(app, dataSetId);
            var dataSets = app.Service<DataSetService>();
            Assert.Equal(1, await dataSets.TrashAsync([photo.Id]));
            Assert.Equal(1, await dataSets.EmptyTrashAsync(dataSetId));
        });

        await AssertGoesOnFromEpochThreeAsync(data.Path, runId);
    }

    [Fact]
    public async Task ARunGoesOnFromItsCheckpointWhenAPhotoWasUnreadableAsItStarted()
    {
        using var data = new TempDirectory();
        var runId = await StopAfterEpochTwoAsync(data.Path, beforeLaunch: async (app, dataSetId) =>
        {
            // Listed for the run, gone by the time it is decoded: the run trains without it.
            var photo = await FirstPhotoAsync(app, dataSetId);
            File.Delete(app.Service<StoragePaths>().PhotoFile(photo));
        }, afterFirstEpoch: null);

        await AssertGoesOnFromEpochThreeAsync(data.Path, runId);
    }

    static async Task<Photo> FirstPhotoAsync(HappySadAppFactory app, int dataSetId)
    {
        await using var context = await app.Service<IDbContextFactory<HappySadDbContext>>().CreateDbContextAsync();
        return await context.Photos.AsNoTracking().Where(p => p.DataSetId == dataSetId).OrderBy(p => p.Id).FirstAsync();
    }

    static async Task<int> StopAfterEpochTwoAsync(string data, Func<HappySadAppFactory, int, Task>? beforeLaunch, Func<HappySadAppFactory, int, Task>? afterFirstEpoch)
    {
        using var app = new HappySadAppFactory(dataDirectory: data);
        // More photos a class than a run needs, so one fewer still trains.
        var dataSetId = await app.CreateDataSetFromSharedPhotosAsync(TrainingPipeline.MinImagesPerClass + 2);
        if (beforeLaunch is not null)
            await beforeLaunch(app, dataSetId);
        var run = await app.Service<RunService>().LaunchAsync(dataSetId, new RunRecipe { Epochs = 4, BatchSize = 4 });
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = app.Service<RunEvents>().Subscribe(run.Id, new RunObserver(onEpoch: e =>
        {
            (e.Epoch == 1 ? first : second).TrySetResult();
            return Task.CompletedTask;
        }));
        await first.Task.WaitAsync(TimeSpan.FromSeconds(180));
        if (afterFirstEpoch is not null)
            await afterFirstEpoch(app, dataSetId);
        await second.Task.WaitAsync(TimeSpan.FromSeconds(180));
        return run.Id;
    }

    static async Task AssertGoesOnFromEpochThreeAsync(string data, int runId)
    {
        using var restarted = new HappySadAppFactory(dataDirectory: data);
        var finished = await restarted.WaitForRunAsync(runId, resumes: true);
        Assert.True(finished.Status == RunStatus.Succeeded, finished.Message);
        await using var context = await restarted.Service<IDbContextFactory<HappySadDbContext>>().CreateDbContextAsync();
        var attempts = await context.RunAttempts.AsNoTracking().Where(a => a.RunId == runId).OrderBy(a => a.Number).ToListAsync();
        // Stopped during epoch 3 or just after epoch 2's checkpoint: either way the next attempt starts at epoch 3.
        Assert.Equal([(1, 1, "interrupted"), (2, 3, "succeeded")], attempts.Select(a => (a.Number, a.FromEpoch, a.Outcome)));
        Assert.Equal([1, 2, 3, 4], await context.RunEpochs.Where(e => e.RunId == runId).OrderBy(e => e.Epoch).Select(e => e.Epoch).ToListAsync());
    }
}
