using System.Diagnostics;
using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;

namespace HappySad.Training.Training;

/// <summary>Everything that defines one training run apart from its data.</summary>
public sealed record TrainingRequest
{
    /// <summary>The smallest class a run accepts: below it a 70/20/10 split leaves splits empty.</summary>
    public const int MinImagesPerClass = 10;

    public FitOptions Fit { get; init; } = new();
    public SplitFractions Split { get; init; } = SplitFractions.Notebook;
    public DevicePreference Device { get; init; } = DevicePreference.Auto;
    public string Architecture { get; init; } = SeedCnn.ArchitectureName;
}

/// <summary>A trained model, how it got there, and how it did on the held-out test split.</summary>
public sealed record TrainingOutcome(ImageClassifier Classifier, TrainingHistory History, EvaluationResult Test, DataSplit Split);

/// <summary>The notebook end to end on already-loaded images: split, build, fit, test, describe.</summary>
public static class TrainingPipeline
{
    /// <summary>Refuses an image set with a class too small to split and learn from, naming the class.</summary>
    public static void EnsureTrainable(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        for (var label = 0; label < images.ClassNames.Count; label++)
        {
            if (images.CountOf(label) < TrainingRequest.MinImagesPerClass)
                throw new DataSetException($"class '{images.ClassNames[label]}' has {images.CountOf(label)} usable images; training needs at least {TrainingRequest.MinImagesPerClass} per class");
        }
    }

    public static async Task<TrainingOutcome> RunAsync(
        ImageSet images,
        TrainingRequest request,
        IEnumerable<ITrainingCallback>? callbacks = null,
        string? dataDirectory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(request);
        request.Fit.Validate();
        request.Split.Validate();
        EnsureTrainable(images);

        var device = TorchDevices.Resolve(request.Device);
        var split = DataSplit.Stratified(images.Labels, request.Split, request.Fit.Seed);
        var (train, validation, test) = (images.Subset(split.Train), images.Subset(split.Validation), images.Subset(split.Test));
        var model = ModelArchitectures.Create(request.Architecture, request.Fit.Seed);
        try
        {
            var clock = Stopwatch.StartNew();
            var history = await new Trainer(device).FitAsync(model, train, validation, request.Fit, callbacks, cancellationToken).ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds;
            var testResult = Evaluator.Evaluate(model, test, device, cancellationToken: cancellationToken);
            var card = new ModelCard
            {
                Architecture = request.Architecture,
                ClassNames = images.ClassNames,
                Parameters = model.parameters().Sum(p => p.numel()),
                Preprocessing = new Preprocessing { InputSize = images.Size },
                Training = new TrainingSettings
                {
                    Epochs = request.Fit.Epochs,
                    EpochsRun = history.Epochs.Count,
                    BatchSize = request.Fit.BatchSize,
                    LearningRate = request.Fit.LearningRate,
                    Seed = request.Fit.Seed,
                    ValidationFraction = request.Split.Validation,
                    TestFraction = request.Split.Test,
                    DataDirectory = dataDirectory,
                    TrainImages = train.Count,
                    ValidationImages = validation.Count,
                    TestImages = test.Count,
                    Device = device.type.ToString().ToLowerInvariant(),
                    Seconds = seconds,
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
