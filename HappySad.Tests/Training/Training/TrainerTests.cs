using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Training;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Training;

/// <summary>Trains on a small subset of the notebook's photos (decoded once for the whole class).</summary>
public sealed class SubsetFixture : IDisposable
{
    readonly TempDirectory _folder = SharedPhotos.Subset(perClass: 24);

    public SubsetFixture() => Images = ImageFolder.Open(_folder.Path).Load().Images;

    public ImageSet Images { get; }

    public void Dispose() => _folder.Dispose();
}

[Collection(TorchTraining.Name)]
public class TrainerTests(SubsetFixture data) : IClassFixture<SubsetFixture>
{
    [Fact]
    public async Task TrainingLossFallsOnRealPhotos()
    {
        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 5);
        var epochs = new List<EpochMetrics>();

        var history = await new Trainer(CPU).FitAsync(model, data.Images, data.Images, new FitOptions { Epochs = 3, Seed = 5 }, [new LambdaCallback(epochs.Add)]);

        Assert.Equal(3, history.Epochs.Count);
        Assert.Equal(history.Epochs, epochs);
        Assert.True(history.Epochs[^1].Loss < history.Epochs[0].Loss * 0.9, $"loss should fall: {string.Join(" -> ", history.Epochs.Select(e => e.Loss))}");
        Assert.All(history.Epochs, e => Assert.NotNull(e.ValLoss));
    }

    [Fact]
    public async Task SameSeedGivesTheSameNumbersOnCpu()
    {
        async Task<IReadOnlyList<EpochMetrics>> Fit()
        {
            using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 9);
            var history = await new Trainer(CPU).FitAsync(model, data.Images, null, new FitOptions { Epochs = 1, BatchSize = 16, Seed = 9 });
            return history.Epochs;
        }

        var first = await Fit();
        var second = await Fit();

        Assert.Equal(first[0].Loss, second[0].Loss);
        Assert.Equal(first[0].Accuracy, second[0].Accuracy);
    }

    [Fact]
    public async Task ReportsEveryBatchAndCancelsWithinOneBatch()
    {
        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 1);
        using var cancel = new CancellationTokenSource();
        var batches = new List<BatchProgress>();
        var callback = new LambdaCallback(onBatchEnd: b =>
        {
            batches.Add(b);
            if (b.Batch == 2)
                cancel.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new Trainer(CPU).FitAsync(model, data.Images, null, new FitOptions { Epochs = 5, BatchSize = 8 }, [callback], cancellationToken: cancel.Token));

        Assert.Equal([1, 2], batches.Select(b => b.Batch));
        Assert.All(batches, b => Assert.Equal(6, b.BatchesPerEpoch));
    }

    [Fact]
    public async Task RefusesNonsenseOptionsBeforeTraining()
    {
        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName);

        await Assert.ThrowsAsync<ArgumentException>(() => new Trainer(CPU).FitAsync(model, data.Images, null, new FitOptions { Epochs = 0 }));
    }
}
