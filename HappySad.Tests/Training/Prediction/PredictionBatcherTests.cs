using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Prediction;

/// <summary>
/// Dynamic batching gives every image the verdict it gets alone. Not bitwise: libtorch picks its
/// convolution and matrix kernels by batch size, so float32 sums round differently; measured
/// differences are under 1e-7 (seed-cnn and compact-cnn), so 1e-6 is the bar.
/// </summary>
public sealed class PredictionBatcherTests
{
    const double Tolerance = 1e-6;

    static void AssertSameVerdicts(IReadOnlyList<double> alone, IReadOnlyList<double> batched)
    {
        Assert.Equal(alone.Count, batched.Count);
        var worst = alone.Zip(batched, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < Tolerance, $"a batched probability differs from its lone one by {worst:E2}");
    }

    static IReadOnlyList<string> Photos(int count) =>
        [.. new[] { "happy", "sad" }.SelectMany(c => Directory.EnumerateFiles(Path.Combine(SharedPhotos.Root, c)).Order(StringComparer.Ordinal).Take(count / 2))];

    static ImageClassifier Classifier(string architecture, int inputSize, CropMode crop = CropMode.None) => new(
        ModelArchitectures.Create(architecture, seed: 3),
        new ModelCard { Architecture = architecture, ClassNames = ["happy", "sad"], Preprocessing = new Preprocessing { InputSize = inputSize, Crop = crop } },
        CPU);

    /// <summary>
    /// Submits every image from its own thread, each held in its preparing step until all have
    /// announced themselves, so the batcher gathers them into one forward pass.
    /// </summary>
    static async Task<IReadOnlyList<double>> BatchedAsync(ImageClassifier classifier, List<DecodedImage> images, long expectBatches = 1)
    {
        using var batcher = new PredictionBatcher(classifier, new BatchWindow(TimeSpan.FromSeconds(30), images.Count));
        using var together = new Barrier(images.Count);
        var verdicts = await Task.WhenAll(images.Select(image => Task.Factory.StartNew(
            () => batcher.PredictAsync(() => { together.SignalAndWait(); return image; }),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()));
        if (expectBatches == 1)
            Assert.Equal((1L, images.Count), (batcher.Batches, batcher.LargestBatch));
        else
            Assert.Equal((expectBatches == 0 ? images.Count : expectBatches, 1), (batcher.Batches, batcher.LargestBatch));
        return [.. verdicts.Select(v => v.ClassProbabilities["sad"])];
    }

    static IReadOnlyList<double> OneAtATime(ImageClassifier classifier, List<DecodedImage> images) =>
        [.. images.Select(image => classifier.Predict(image).ClassProbabilities["sad"])];

    [Theory]
    [InlineData(SeedCnn.ArchitectureName, 256)]
    [InlineData(CompactCnn.ArchitectureName, 128)] // batch norm, in eval mode
    public async Task ABatchOfPhotosGetsExactlyTheProbabilitiesEachGetsAlone(string architecture, int inputSize)
    {
        using var classifier = Classifier(architecture, inputSize);
        var images = Photos(12).Select(p => ImageDecoder.Decode(File.ReadAllBytes(p), inputSize)).ToList();

        var alone = OneAtATime(classifier, images);
        var batched = await BatchedAsync(classifier, images);

        AssertSameVerdicts(alone, batched);
        Assert.True(alone.Distinct().Count() > 1, "different photos should get different probabilities");
    }

    [Theory]
    [InlineData(FaceVerdictClassifier.ArchitectureName)]
    [InlineData(FaceVerdictClassifier.PairArchitectureName)]
    public async Task AFaceModelRoutesEachPhotoOfABatchByItsOwnViews(string architecture)
    {
        const int size = FaceVerdictClassifier.InputSize;
        using var classifier = Classifier(architecture, size, CropMode.FaceAndWhole);
        // Untrained, every learnt number is zero and every photo gets one half: give them an opinion.
        using (no_grad())
        {
            foreach (var (name, parameter) in classifier.Module.named_parameters())
            {
                if (name is "faceScale" or "emotionScale" or "faceBias" or "colourHead.bias")
                    parameter.fill_(name.EndsWith("bias", StringComparison.OrdinalIgnoreCase) ? -0.3f : 0.7f);
            }
        }
        // Two stacked views, face above whole photo; half of them with the face view black (no face found).
        var images = Photos(8).Select((p, i) =>
        {
            var view = ImageDecoder.Decode(File.ReadAllBytes(p), size).Rgb;
            var rgb = new byte[view.Length * 2];
            if (i % 2 == 0)
                view.CopyTo(rgb, 0);
            view.CopyTo(rgb, view.Length);
            return new DecodedImage(rgb, size, ImageFormat.Jpeg, size, size) { Views = 2 };
        }).ToList();

        var alone = OneAtATime(classifier, images);
        var batched = await BatchedAsync(classifier, images);

        AssertSameVerdicts(alone, batched);
        Assert.True(alone.Where((_, i) => i % 2 == 0).Distinct().Count() > 1, "faces should be read, each its own way");
        Assert.Single(alone.Where((_, i) => i % 2 == 1).Distinct());
    }

    /// <summary>
    /// A request that prepares its photo (finds faces) while another is still preparing runs its
    /// libtorch operations on one thread, and its thread has its count back afterwards; a request
    /// preparing alone keeps every core.
    /// </summary>
    [Fact]
    public async Task ARequestPreparingBesideAnotherTakesOneThreadAndALoneOneTakesThemAll()
    {
        using var classifier = Classifier(SeedCnn.ArchitectureName, 256);
        using var batcher = new PredictionBatcher(classifier, new BatchWindow(TimeSpan.FromMilliseconds(5), 4));
        var image = ImageDecoder.Decode(File.ReadAllBytes(Photos(2)[0]), 256);
        using var firstIn = new ManualResetEventSlim();
        using var secondDone = new ManualResetEventSlim();
        int before = 0, first = 0, second = 0, secondAfter = 0;

        var a = OnOwnThread(() =>
        {
            before = get_num_threads();
            return batcher.PredictAsync(() => { first = get_num_threads(); firstIn.Set(); secondDone.Wait(TimeSpan.FromSeconds(30)); return image; });
        });
        Assert.True(firstIn.Wait(TimeSpan.FromSeconds(30)), "the first request should start preparing");
        var b = OnOwnThread(() =>
        {
            try
            {
                var verdict = batcher.PredictAsync(() => { second = get_num_threads(); return image; });
                secondAfter = get_num_threads();
                return verdict;
            }
            finally
            {
                secondDone.Set();
            }
        });
        await Task.WhenAll(a, b).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(before > 1 || Environment.ProcessorCount == 1, $"libtorch should use every core by default, not {before}");
        Assert.Equal((before, 1, before), (first, second, secondAfter));
    }

    static Task<HappySad.Training.Prediction.Prediction> OnOwnThread(Func<Task<HappySad.Training.Prediction.Prediction>> submit) =>
        Task.Factory.StartNew(submit, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    /// <summary>A model whose forward pass fails on any batch of more than one image (as one that runs out of memory for a batch's activations would).</summary>
    sealed class FailsOnBatches : nn.Module<Tensor, Tensor>
    {
        readonly nn.Module<Tensor, Tensor> inner;

        public FailsOnBatches(nn.Module<Tensor, Tensor> inner) : base(nameof(FailsOnBatches))
        {
            this.inner = inner;
            RegisterComponents();
        }

        public int Failures { get; private set; }

        public override Tensor forward(Tensor input)
        {
            if (input.shape[0] > 1)
            {
                Failures++;
                throw new InvalidOperationException("no memory for this batch");
            }
            return inner.forward(input);
        }
    }

    [Fact]
    public async Task WhenABatchFailsEachOfItsPhotosIsLabelledAloneAndTheModelServesOn()
    {
        var model = new FailsOnBatches(ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 3));
        using var classifier = new ImageClassifier(model, new ModelCard { Architecture = SeedCnn.ArchitectureName, ClassNames = ["happy", "sad"], Preprocessing = new Preprocessing { InputSize = 256 } }, CPU);
        var images = Photos(4).Select(p => ImageDecoder.Decode(File.ReadAllBytes(p), 256)).ToList();
        var alone = OneAtATime(classifier, images);

        var batched = await BatchedAsync(classifier, images, expectBatches: 0);

        Assert.Equal(1, model.Failures);
        AssertSameVerdicts(alone, batched);
        using var batcher = new PredictionBatcher(classifier, new BatchWindow(TimeSpan.FromMilliseconds(5), 4));
        AssertSameVerdicts([alone[0]], [(await batcher.PredictAsync(() => images[0]).WaitAsync(TimeSpan.FromSeconds(30))).ClassProbabilities["sad"]]);
    }

    [Fact]
    public async Task APhotoWhosePreparingFailsDoesNotHoldBackTheOthersBatch()
    {
        using var classifier = Classifier(SeedCnn.ArchitectureName, 256);
        using var batcher = new PredictionBatcher(classifier, new BatchWindow(TimeSpan.FromSeconds(10), 4));
        var image = ImageDecoder.Decode(File.ReadAllBytes(Photos(2)[0]), 256);
        using var together = new Barrier(2);

        var good = OnOwnThread(() => batcher.PredictAsync(() => { together.SignalAndWait(); return image; }));
        var bad = OnOwnThread(() => batcher.PredictAsync(() => { together.SignalAndWait(); throw new ImageRejectedException(RejectionKind.Undecodable, "not an image"); }));

        await Assert.ThrowsAsync<ImageRejectedException>(() => bad.WaitAsync(TimeSpan.FromSeconds(30)));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.Equal(classifier.Predict(image).ClassProbabilities, (await good.WaitAsync(TimeSpan.FromSeconds(30))).ClassProbabilities);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5), "the good photo should not wait out the 10 s window for the failed one");
    }

    [Fact]
    public async Task ALoneRequestDoesNotWaitForTheWindow()
    {
        using var classifier = Classifier(SeedCnn.ArchitectureName, 256);
        using var batcher = new PredictionBatcher(classifier, new BatchWindow(TimeSpan.FromSeconds(30), 16));
        var image = ImageDecoder.Decode(File.ReadAllBytes(Photos(2)[0]), 256);

        var verdict = await batcher.PredictAsync(() => image).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(classifier.Predict(image).ClassProbabilities, verdict.ClassProbabilities);
        Assert.Equal(1, batcher.LargestBatch);
    }
}
