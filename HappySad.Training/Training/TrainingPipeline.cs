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
    public ModelOptions Model { get; init; } = new();

    /// <summary>Null: the model type's own default (a face crop for face models, none otherwise).</summary>
    public CropMode? Crop { get; init; }

    public double FaceMargin { get; init; }

    /// <summary>How face crops find faces (ignored without a face crop).</summary>
    public Faces.FaceDetection FaceDetection { get; init; } = Faces.FaceDetection.Default;

    /// <summary>The preset this request came from, if any, recorded in the model card.</summary>
    public string? Preset { get; init; }

    /// <summary>How photos must be prepared for this request's model: load the training images with it.</summary>
    /// <exception cref="ArgumentException">The crop does not give the views the model reads.</exception>
    public ImagePreparation Preparation
    {
        get
        {
            var type = ModelArchitectures.Describe(Architecture);
            var crop = Crop ?? type.DefaultCrop;
            if (type.CropProblem(crop) is { } problem)
                throw new ArgumentException(problem);
            return new ImagePreparation(type.InputSize, crop, FaceMargin, crop == CropMode.None ? null : FaceDetection);
        }
    }
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
        var preparation = request.Preparation;
        if (images.Size != preparation.InputSize || images.Views != preparation.Views)
            throw new ArgumentException($"a {request.Architecture} model takes {preparation.Views} view(s) of {preparation.InputSize}x{preparation.InputSize}, but these were prepared as {images.Views} of {images.Size}x{images.Size}");

        var device = TorchDevices.Resolve(request.Device);
        var split = DataSplit.Stratified(images.Labels, request.Split, request.Fit.Seed);
        var (train, validation, test) = (images.Subset(split.Train), images.Subset(split.Validation), images.Subset(split.Test));
        var model = ModelArchitectures.Create(request.Architecture, request.Fit.Seed, request.Model);
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
                    Preset = request.Preset,
                    Augmentation = request.Fit.Augmentation,
                    WeightDecay = request.Fit.WeightDecay,
                    EarlyStoppingPatience = request.Fit.EarlyStoppingPatience,
                    RestoredEpoch = history.RestoredEpoch,
                    Schedule = request.Fit.Schedule,
                    Dropout = request.Model.Dropout,
                    FineTune = request.Model.FineTune,
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
