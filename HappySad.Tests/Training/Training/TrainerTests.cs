using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Native;
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

    [Fact]
    public async Task AFrozenFrontReadsEachPhotoOnceAndTrainsTheSameHeadAsReadingItEveryEpoch()
    {
        TorchRuntime.EnsureInitialized();
        var (train, validation) = (data.Images.Subset([.. Enumerable.Range(0, 36)]), data.Images.Subset([.. Enumerable.Range(36, data.Images.Count - 36)]));
        var options = new FitOptions { Epochs = 4, BatchSize = 8, LearningRate = 0.05, Seed = 3 };

        async Task<(IReadOnlyList<EpochMetrics> Epochs, float[] Weights, int Read)> Fit(bool once, FitOptions fit)
        {
            using var model = new ColourHeadModel();
            var history = await new Trainer(CPU) { ReadsFrozenFrontsOnce = once }.FitAsync(model, train, validation, fit);
            return (history.Epochs, [.. model.Weights()], model.PhotosRead);
        }

        var once = await Fit(once: true, options);
        var everyEpoch = await Fit(once: false, options);

        // Read once: each training and validation photo once in all; the other way, every epoch.
        Assert.Equal(train.Count + validation.Count, once.Read);
        Assert.Equal(options.Epochs * (train.Count + validation.Count), everyEpoch.Read);
        Assert.True(once.Epochs[^1].Loss < once.Epochs[0].Loss, $"loss should fall: {string.Join(" -> ", once.Epochs.Select(e => e.Loss))}");
        for (var i = 0; i < options.Epochs; i++)
        {
            Assert.Equal(everyEpoch.Epochs[i].Loss, once.Epochs[i].Loss, 6);
            Assert.Equal(everyEpoch.Epochs[i].Accuracy, once.Epochs[i].Accuracy);
            Assert.Equal(everyEpoch.Epochs[i].ValLoss!.Value, once.Epochs[i].ValLoss!.Value, 6);
        }
        Assert.Equal(everyEpoch.Weights, once.Weights, (a, b) => Math.Abs(a - b) < 1e-6);

        // Augmented photos differ every epoch, so they are read every epoch.
        var augmented = await Fit(once: true, options with { Augmentation = AugmentOptions.Standard });
        Assert.Equal(options.Epochs * (train.Count + validation.Count), augmented.Read);
    }

    [Fact]
    public async Task AFitWithAFrozenFrontResumedAfterEpochTwoEndsWithTheSameWeightsAsOneThatRanStraight()
    {
        TorchRuntime.EnsureInitialized();
        // Two micro-batches a batch and dropout in the head: the resumed fit reads the photos in epoch 3,
        // where the straight one trained on stored readings, and both must draw and sum the same.
        var (train, validation) = (data.Images.Subset([.. Enumerable.Range(0, 36)]), data.Images.Subset([.. Enumerable.Range(36, data.Images.Count - 36)]));
        var options = new FitOptions { Epochs = 4, BatchSize = 16, LearningRate = 0.05, Seed = 5 };
        using var straight = new ColourHeadModel(dropout: 0.5);
        var straightHistory = await new Trainer(CPU).FitAsync(straight, train, validation, options);

        using var folder = new TempDirectory();
        var checkpoint = new TrainingCheckpoint(Path.Combine(folder.Path, "run.checkpoint"));
        using (var cut = new ColourHeadModel(dropout: 0.5))
        using (var cancel = new CancellationTokenSource())
        {
            var stopper = new LambdaCallback(onEpochEnd: e =>
            {
                if (e.Epoch == 2)
                    cancel.Cancel();
            });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new Trainer(CPU).FitAsync(cut, train, validation, options, [stopper], checkpoint, cancel.Token));
        }
        using var resumed = new ColourHeadModel(dropout: 0.5, firstWeight: -1);
        var resumedHistory = await new Trainer(CPU).FitAsync(resumed, train, validation, options, [], checkpoint);

        Assert.Equal(2, resumedHistory.ResumedAfterEpoch);
        Assert.Equal(train.Count + validation.Count, resumed.PhotosRead);
        Assert.Equal(straightHistory.Epochs.Select(e => e with { Seconds = 0 }), resumedHistory.Epochs.Select(e => e with { Seconds = 0 }));
        Assert.Equal(straight.Weights(), resumed.Weights());
    }

    /// <summary>
    /// A front with nothing to learn (each photo's mean red, green and blue) under a one-layer head
    /// (fixed starting weights, so nothing depends on libtorch's shared generator); counts the photos it reads.
    /// </summary>
    sealed class ColourHeadModel : nn.Module<Tensor, Tensor>, IFrozenFront
    {
        readonly TorchSharp.Modules.Linear head;
        readonly TorchSharp.Modules.Dropout dropout;

        public ColourHeadModel(double dropout = 0, float firstWeight = 0.3f) : base(nameof(ColourHeadModel))
        {
            head = nn.Linear(3, 1);
            this.dropout = nn.Dropout(dropout);
            using (no_grad())
            {
                using var weight = tensor(new[] { firstWeight, -0.2f, 0.1f }, [1, 3]);
                using var bias = tensor(new[] { 0.05f }, [1]);
                head.weight!.copy_(weight);
                head.bias!.copy_(bias);
            }
            RegisterComponents();
        }

        public int PhotosRead { get; private set; }

        public bool FrontIsFrozen => true;

        public Tensor Front(Tensor input)
        {
            PhotosRead += (int)input.shape[0];
            return input.mean([2, 3]);
        }

        public Tensor Head(Tensor front) => head.forward(dropout.forward(front.sub(0.5).mul(10)));

        public override Tensor forward(Tensor input) => Head(Front(input));

        public IEnumerable<float> Weights() => head.parameters().SelectMany(p => p.data<float>().ToArray());
    }
}
