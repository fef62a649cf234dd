using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Training;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Training;

/// <summary>
/// A fit cut off after an epoch and resumed from its checkpoint ends exactly where a fit that ran
/// straight through ends: the same weights bit for bit, the same history.
/// </summary>
[Collection(TorchAlone.Name)]
public sealed class ResumeTests(SubsetFixture data) : IClassFixture<SubsetFixture>
{
    const int ModelSeed = 3;

    /// <summary>The notebook's CNN as it is (3.7M parameters, no dropout); the compact CNN with dropout, augmentation, a cosine schedule and AdamW.</summary>
    public static TheoryData<string> Variants => [SeedCnn.ArchitectureName, CompactCnn.ArchitectureName];

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task AFitCutOffAfterEpochTwoAndResumedEndsWithTheSameWeightsAsOneThatRanStraight(string architecture)
    {
        var options = new FitOptions { Epochs = 4, BatchSize = 16, Seed = 7 };
        var images = data.Images;
        if (architecture == CompactCnn.ArchitectureName)
        {
            // Wider and slower than the notebook's CNN: a third of the photos keep the test short.
            options = options with { BatchSize = 8, Augmentation = AugmentOptions.Standard, Schedule = LearningRateSchedule.Cosine, WeightDecay = 0.01 };
            images = data.Images.Subset([.. Enumerable.Range(0, data.Images.Count).Where(i => i % 3 == 0)]);
        }
        using var folder = new TempDirectory();
        var checkpoint = new TrainingCheckpoint(Path.Combine(folder.Path, "run.checkpoint"));

        using var straight = ModelArchitectures.Create(architecture, ModelSeed);
        var straightHistory = await new Trainer(CPU).FitAsync(straight, images, images, options);

        await FitUntilCancelledAfterAsync(2, options, checkpoint, architecture, images, images);
        DisturbTorchsGlobalGenerator();
        var (resumed, heard, resumedHistory) = await ResumeAsync(options, checkpoint, architecture, images, images);
        using (resumed)
        {
            Assert.Equal([3, 4], heard.Epochs);
            Assert.Equal(2, heard.ResumedAfterEpoch);
            Assert.Equal(2, resumedHistory.ResumedAfterEpoch);
            AssertSameHistory(straightHistory, resumedHistory);
            AssertSameWeights(straight, resumed);
        }
        Assert.Equal(["run.checkpoint"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task EarlyStoppingCarriesItsBestEpochAndPatienceAcrossAResume()
    {
        // Validating on photos it never trains on, at a rate that overfits 24 photos within a few epochs.
        var train = data.Images.Subset([.. Enumerable.Range(0, data.Images.Count).Where(i => i % 2 == 0)]);
        var validation = data.Images.Subset([.. Enumerable.Range(0, data.Images.Count).Where(i => i % 2 == 1)]);
        var options = new FitOptions { Epochs = 12, BatchSize = 8, Seed = 11, LearningRate = 3e-3, EarlyStoppingPatience = 2 };
        using var folder = new TempDirectory();
        var checkpoint = new TrainingCheckpoint(Path.Combine(folder.Path, "run.checkpoint"));

        using var straight = ModelArchitectures.Create(SeedCnn.ArchitectureName, ModelSeed);
        var straightHistory = await new Trainer(CPU).FitAsync(straight, train, validation, options);
        Assert.True(straightHistory.StoppedEarly && straightHistory.RestoredEpoch is not null, $"the straight fit should stop early and roll back: {Describe(straightHistory)}");
        // Cut off after the best epoch, so the resumed fit must remember it and its patience to stop where the straight one did.
        var cutAfter = straightHistory.RestoredEpoch!.Value + 1;

        await FitUntilCancelledAfterAsync(cutAfter, options, checkpoint, SeedCnn.ArchitectureName, train, validation);
        DisturbTorchsGlobalGenerator();
        var (resumed, heard, resumedHistory) = await ResumeAsync(options, checkpoint, SeedCnn.ArchitectureName, train, validation);
        using (resumed)
        {
            Assert.Equal(cutAfter, heard.ResumedAfterEpoch);
            Assert.Equal(straightHistory.Epochs.Count - cutAfter, heard.Epochs.Count);
            Assert.True(resumedHistory.StoppedEarly);
            Assert.Equal(straightHistory.RestoredEpoch, resumedHistory.RestoredEpoch);
            AssertSameHistory(straightHistory, resumedHistory);
            AssertSameWeights(straight, resumed);
        }
    }

    [Fact]
    public async Task ATruncatedCheckpointIsIgnoredAndTheFitStartsAfresh()
    {
        var options = new FitOptions { Epochs = 1, BatchSize = 16, Seed = 5 };
        using var folder = new TempDirectory();
        var checkpoint = new TrainingCheckpoint(Path.Combine(folder.Path, "run.checkpoint"));
        await FitAsync(options, checkpoint, Few);
        var whole = await File.ReadAllBytesAsync(checkpoint.Path);
        await File.WriteAllBytesAsync(checkpoint.Path, whole[..(whole.Length / 2)]);

        var (model, heard, history) = await ResumeAsync(options, checkpoint, SeedCnn.ArchitectureName, Few, Few);
        using (model)
        {
            Assert.Equal(0, heard.ResumedAfterEpoch);
            Assert.StartsWith("it is truncated", heard.Ignored, StringComparison.Ordinal);
            Assert.Equal([1], heard.Epochs);
            Assert.Equal(0, history.ResumedAfterEpoch);
        }
        // The fit wrote its own whole checkpoint over the broken one: a third attempt finds nothing left to do.
        var (again, heardAgain, _) = await ResumeAsync(options, checkpoint, SeedCnn.ArchitectureName, Few, Few);
        using (again)
        {
            Assert.Equal(1, heardAgain.ResumedAfterEpoch);
            Assert.Empty(heardAgain.Epochs);
        }
    }

    [Theory]
    [InlineData("another seed")]
    [InlineData("another recipe")]
    [InlineData("other photos")]
    public async Task ACheckpointOfOtherTrainingIsIgnoredAndTheFitStartsAfresh(string difference)
    {
        var options = new FitOptions { Epochs = 1, BatchSize = 16, Seed = 5 };
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "run.checkpoint");
        await FitAsync(options, new TrainingCheckpoint(path, "recipe A"), Few);

        var (changedOptions, identity, images) = difference switch
        {
            "another seed" => (options with { Seed = 6 }, "recipe A", Few),
            "another recipe" => (options, "recipe B", Few),
            _ => (options, "recipe A", data.Images.Subset([.. Enumerable.Range(0, data.Images.Count).Where(i => i % 6 == 1)])),
        };
        var (model, heard, _) = await ResumeAsync(changedOptions, new TrainingCheckpoint(path, identity), SeedCnn.ArchitectureName, images, images);
        using (model)
        {
            Assert.Equal(0, heard.ResumedAfterEpoch);
            Assert.Equal("it was written for other training (a different recipe, seed or data)", heard.Ignored);
            Assert.Equal([1], heard.Epochs);
        }
    }

    /// <summary>A few photos of each class, for the tests where only whether a fit resumes matters.</summary>
    ImageSet Few => data.Images.Subset([.. Enumerable.Range(0, data.Images.Count).Where(i => i % 6 == 0)]);

    /// <summary>A whole fit with a checkpoint, which stays behind with its last epoch.</summary>
    static async Task FitAsync(FitOptions options, TrainingCheckpoint checkpoint, ImageSet images)
    {
        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, ModelSeed);
        await new Trainer(CPU).FitAsync(model, images, images, options, checkpoint: checkpoint);
    }

    /// <summary>Fits with a checkpoint and cancels as epoch <paramref name="epoch"/> ends: the checkpoint then holds that epoch.</summary>
    async Task FitUntilCancelledAfterAsync(int epoch, FitOptions options, TrainingCheckpoint checkpoint, string architecture, ImageSet? train = null, ImageSet? validation = null)
    {
        using var model = ModelArchitectures.Create(architecture, ModelSeed);
        using var cancel = new CancellationTokenSource();
        var stopper = new LambdaCallback(onEpochEnd: e =>
        {
            if (e.Epoch == epoch)
                cancel.Cancel();
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new Trainer(CPU).FitAsync(model, train ?? data.Images, validation ?? data.Images, options, [stopper], checkpoint, cancel.Token));
    }

    /// <summary>
    /// Fits again from <paramref name="checkpoint"/> into a model initialised differently, so its
    /// weights can only come from the file.
    /// </summary>
    async Task<(nn.Module<Tensor, Tensor> Model, Heard Heard, TrainingHistory History)> ResumeAsync(FitOptions options, TrainingCheckpoint checkpoint, string architecture, ImageSet? train = null, ImageSet? validation = null)
    {
        var model = ModelArchitectures.Create(architecture, ModelSeed + 100);
        var heard = new Heard();
        var history = await new Trainer(CPU).FitAsync(model, train ?? data.Images, validation ?? data.Images, options, [heard], checkpoint);
        return (model, heard, history);
    }

    /// <summary>What other code in the process might do between two attempts: the resumed fit must not depend on it.</summary>
    static void DisturbTorchsGlobalGenerator()
    {
        manual_seed(12345);
        using var _ = rand(1000);
    }

    static void AssertSameHistory(TrainingHistory expected, TrainingHistory actual)
    {
        // Seconds are the wall clock's, the only number allowed to differ.
        Assert.Equal(expected.Epochs.Select(e => e with { Seconds = 0 }), actual.Epochs.Select(e => e with { Seconds = 0 }));
        Assert.Equal(expected.StoppedEarly, actual.StoppedEarly);
        Assert.Equal(expected.RestoredEpoch, actual.RestoredEpoch);
    }

    static void AssertSameWeights(nn.Module<Tensor, Tensor> expected, nn.Module<Tensor, Tensor> actual)
    {
        var theirs = actual.state_dict();
        var ours = expected.state_dict();
        Assert.Equal(ours.Keys, theirs.Keys);
        Assert.All(ours, pair =>
        {
            var (a, b) = (pair.Value, theirs[pair.Key]);
            Assert.Equal(a.shape, b.shape);
            Assert.Equal(a.dtype, b.dtype);
            using var same = a.eq(b).all();
            Assert.True(same.item<bool>(), $"{pair.Key} differs");
        });
    }

    static string Describe(TrainingHistory history) =>
        string.Join("; ", history.Epochs.Select(e => $"{e.Epoch}: val loss {e.ValLoss:0.0000}")) + $"; restored {history.RestoredEpoch}";

    /// <summary>The epochs a callback heard of, and what the fit told it at the start.</summary>
    sealed class Heard : ITrainingCallback
    {
        public List<int> Epochs { get; } = [];
        public int ResumedAfterEpoch { get; private set; } = -1;
        public string? Ignored { get; private set; }

        public void OnTrainBegin(TrainingContext context) => (ResumedAfterEpoch, Ignored) = (context.ResumedAfterEpoch, context.CheckpointIgnored);

        public void OnEpochEnd(EpochMetrics metrics, TrainingContext context) => Epochs.Add(metrics.Epoch);
    }
}
