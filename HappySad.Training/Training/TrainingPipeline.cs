using System.Diagnostics;
using System.Text.Json;
using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;

namespace HappySad.Training.Training;

/// <summary>A trained model, how it got there, and how it did on the held-out test split.</summary>
public sealed record TrainingOutcome(ImageClassifier Classifier, TrainingHistory History, EvaluationResult Test, DataSplit Split);

/// <summary>The notebook end to end on already-loaded images: split, build, fit, test, describe.</summary>
public static class TrainingPipeline
{
    /// <summary>The smallest class a run accepts: below it a 70/20/10 split leaves splits empty.</summary>
    public const int MinImagesPerClass = 10;

    /// <summary>Refuses an image set with a class too small to split and learn from, naming the class.</summary>
    public static void EnsureTrainable(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        for (var label = 0; label < images.ClassNames.Count; label++)
        {
            if (images.CountOf(label) < MinImagesPerClass)
                throw new DataSetException($"class '{images.ClassNames[label]}' has {images.CountOf(label)} usable images; training needs at least {MinImagesPerClass} per class");
        }
    }

    /// <summary>
    /// Splits, fits, tests and describes. With <paramref name="checkpointFile"/>, the fit keeps its state
    /// there after every epoch and, when a checkpoint of this very recipe and data is already there,
    /// goes on from the epoch after it (<see cref="TrainingHistory.ResumedAfterEpoch"/>), ending with the
    /// same model as a fit that was never cut off. The caller removes the file once the run has ended.
    /// </summary>
    public static async Task<TrainingOutcome> RunAsync(
        ImageSet images,
        RunRecipe recipe,
        IEnumerable<ITrainingCallback>? callbacks = null,
        string? dataDirectory = null,
        string? checkpointFile = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(recipe);
        recipe.EnsureValid(TorchDevices.CudaAvailable);
        EnsureTrainable(images);
        var preparation = recipe.Preparation();
        var fit = recipe.ToFitOptions();
        if (images.Size != preparation.InputSize || images.Views != preparation.Views)
            throw new ArgumentException($"a {recipe.Architecture} model takes {preparation.Views} view(s) of {preparation.InputSize}x{preparation.InputSize}, but these were prepared as {images.Views} of {images.Size}x{images.Size}");

        var device = TorchDevices.Resolve(recipe.Device);
        var split = recipe.Split(images);
        var (train, validation, test) = (images.Subset(split.Train), images.Subset(split.Validation), images.Subset(split.Test));
        var model = ModelArchitectures.Create(recipe.Architecture, recipe.Seed, recipe.ToModelOptions());
        try
        {
            var clock = Stopwatch.StartNew();
            // The recipe and the device the numbers come from identify a checkpoint beyond the fit options and data.
            var checkpoint = checkpointFile is null ? null : new TrainingCheckpoint(checkpointFile, $"{JsonSerializer.Serialize(recipe)}\n{device.type}");
            var history = await new Trainer(device).FitAsync(model, train, validation, fit, callbacks, checkpoint, cancellationToken).ConfigureAwait(false);
            if (ModelStore.FirstNonFinite(model) is { } broken)
            {
                var since = history.Epochs.FirstOrDefault(e => !double.IsFinite(e.Loss))?.Epoch;
                throw new TrainingDivergedException($"training diverged: the weights ({broken}) are no longer numbers{(since is { } epoch ? $", the loss since epoch {epoch}" : "")}; try a lower learning rate");
            }
            var seconds = clock.Elapsed.TotalSeconds;
            var testResult = Evaluator.Evaluate(model, test, device, cancellationToken: cancellationToken);
            var card = new ModelCard
            {
                Architecture = recipe.Architecture,
                ClassNames = images.ClassNames,
                Parameters = model.parameters().Sum(p => p.numel()),
                Preprocessing = new Preprocessing
                {
                    InputSize = images.Size,
                    Crop = preparation.Crop,
                    FaceMargin = preparation.FaceMargin,
                    FaceDetector = preparation.DetectsFaces ? preparation.FaceDetection.Describe() : null,
                    FaceDetection = preparation.DetectsFaces ? preparation.FaceDetection : null,
                },
                Training = new TrainingSettings
                {
                    Epochs = recipe.Epochs,
                    EpochsRun = history.Epochs.Count,
                    BatchSize = recipe.BatchSize,
                    LearningRate = recipe.LearningRate,
                    Seed = recipe.Seed,
                    ValidationFraction = recipe.ValidationFraction,
                    TestFraction = recipe.TestFraction,
                    DataDirectory = dataDirectory,
                    TrainImages = train.Count,
                    ValidationImages = validation.Count,
                    TestImages = test.Count,
                    Device = device.type.ToString().ToLowerInvariant(),
                    Seconds = seconds,
                    Preset = recipe.Preset,
                    Augmentation = fit.Augmentation,
                    WeightDecay = recipe.WeightDecay,
                    EarlyStoppingPatience = recipe.Patience,
                    RestoredEpoch = history.RestoredEpoch,
                    Schedule = recipe.Schedule,
                    Dropout = recipe.Dropout,
                    FineTune = recipe.FineTune,
                    TrainableParameters = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()),
                },
                Metrics = new ModelMetrics
                {
                    Loss = history.Last!.Loss,
                    Accuracy = history.Last.Accuracy,
                    ValLoss = history.Last.ValLoss,
                    ValAccuracy = history.Last.ValAccuracy,
                    TestAccuracy = test.Count == 0 ? null : testResult.Metrics.Accuracy,
                    TestPrecision = test.Count == 0 ? null : testResult.Metrics.Precision,
                    TestRecall = test.Count == 0 ? null : testResult.Metrics.Recall,
                    TestF1 = test.Count == 0 ? null : testResult.Metrics.F1,
                    TestBalancedAccuracy = test.Count == 0 ? null : testResult.Metrics.BalancedAccuracy,
                },
            };
            return new TrainingOutcome(new ImageClassifier(model, card, device), history, testResult, split);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
