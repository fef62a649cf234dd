using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using HappySad.Training.Data;
using HappySad.Training.Faces;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;

namespace HappySad.Training.Training;

/// <summary>
/// Everything that defines one training run apart from its data, with the notebook's values as
/// defaults: what a person asks for in the dashboard's dialog, the API or the command line, what a
/// run row stores and what the pipeline trains. Its ranges are judged here only (<see cref="Problems"/>).
/// The properties are declared in the order the API has always shown them.
/// </summary>
public sealed record RunRecipe
{
    public const int MaxEpochs = 1000;
    public const int MaxBatchSize = 1024;
    public const double MaxHeldOutFraction = 0.9;

    public const string NotebookPreset = "notebook";
    public const string BestPreset = "best";
    public static IReadOnlyList<string> Presets { get; } = [NotebookPreset, BestPreset];

    public string Architecture { get; set; } = SeedCnn.ArchitectureName;
    public int Epochs { get; set; } = 20;
    public int BatchSize { get; set; } = 32;
    public double LearningRate { get; set; } = 1e-3;
    public double ValidationFraction { get; set; } = 0.2;
    public double TestFraction { get; set; } = 0.1;
    public int Seed { get; set; } = 42;

    /// <summary>Where to train, as asked (auto, cpu, cuda); the device a run actually used is recorded apart.</summary>
    [JsonConverter(typeof(LowercaseEnumJsonConverter<DevicePreference>))]
    public DevicePreference Device { get; set; } = DevicePreference.Auto;

    /// <summary>The preset this recipe started from (<see cref="BestPreset"/>), or null for a hand-picked one.</summary>
    public string? Preset { get; set; }

    /// <summary>Null: the model type's default (face crop for face models, whole photo otherwise).</summary>
    [JsonConverter(typeof(CropNameJsonConverter))]
    public CropMode? Crop { get; set; }

    /// <summary>Random flips, crops and colour changes of the training photos (<see cref="AugmentOptions.Standard"/>).</summary>
    public bool Augment { get; set; }

    /// <summary>Decoupled weight decay (AdamW) when above 0; 0 keeps plain Adam (the notebook).</summary>
    public double WeightDecay { get; set; }

    public double Dropout { get; set; } = 0.3;

    /// <summary>Early stopping: epochs without a better validation loss before stopping; 0 is off.</summary>
    public int Patience { get; set; }

    [JsonConverter(typeof(LowercaseEnumJsonConverter<LearningRateSchedule>))]
    public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Constant;

    /// <summary>Also train a pretrained model's own last block.</summary>
    public bool FineTune { get; set; }

    public const string CudaUnavailable =
        "CUDA is not available here: this build uses the CPU libtorch (build with -p:TorchBackend=cuda for a GPU build) or no NVIDIA GPU is visible.";

    /// <summary>
    /// Sets the model and training options of a preset, keeping the split, seed and device.
    /// <c>best</c> is our recommendation for photos unlike the training ones: two pretrained
    /// expression networks' own verdicts on the face (found by the SSD detector; in a group, the
    /// happiest-looking), the lean of the training photos without a face otherwise, four numbers
    /// learnt with a cosine schedule and early stopping (README, "Choosing a model" has the numbers
    /// and the reasoning).
    /// </summary>
    public RunRecipe WithPreset(string preset)
    {
        var notebook = new RunRecipe();
        return preset switch
        {
            NotebookPreset => this with
            {
                Epochs = notebook.Epochs, BatchSize = notebook.BatchSize, LearningRate = notebook.LearningRate, Architecture = notebook.Architecture,
                Crop = null, Augment = false, WeightDecay = 0, Dropout = notebook.Dropout, Patience = 0, Schedule = LearningRateSchedule.Constant, FineTune = false,
                Preset = null,
            },
            BestPreset => this with
            {
                Epochs = 40, BatchSize = 16, LearningRate = 1e-2, Architecture = FaceVerdictClassifier.RaisedHandsArchitectureName,
                Crop = null, Augment = false, WeightDecay = 0, Dropout = 0.3, Patience = 8, Schedule = LearningRateSchedule.Cosine, FineTune = false,
                Preset = BestPreset,
            },
            _ => throw new ArgumentException($"unknown preset '{preset}' (known: {string.Join(", ", Presets)})"),
        };
    }

    /// <summary>Everything wrong with the recipe, as sentences, all at once; empty when it can work. The data it trains on is checked by its caller.</summary>
    public IReadOnlyList<string> Problems(bool cudaAvailable)
    {
        var problems = new List<string>();
        if (Epochs is < 1 or > MaxEpochs)
            problems.Add(Invariant($"Epochs must be between 1 and {MaxEpochs} (got {Epochs})."));
        if (BatchSize is < 1 or > MaxBatchSize)
            problems.Add(Invariant($"Batch size must be between 1 and {MaxBatchSize} (got {BatchSize})."));
        if (!(LearningRate > 0 && LearningRate <= 10))
            problems.Add(Invariant($"Learning rate must be above 0 and at most 10 (got {LearningRate})."));
        if (ValidationFraction is < 0 or > MaxHeldOutFraction || double.IsNaN(ValidationFraction))
            problems.Add(Invariant($"Validation fraction must be between 0 and {MaxHeldOutFraction} (got {ValidationFraction})."));
        if (TestFraction is < 0 or > MaxHeldOutFraction || double.IsNaN(TestFraction))
            problems.Add(Invariant($"Test fraction must be between 0 and {MaxHeldOutFraction} (got {TestFraction})."));
        if (ValidationFraction + TestFraction >= 0.9)
            problems.Add(Invariant($"Validation and test together take {ValidationFraction + TestFraction:0.##} of the photos; leave at least 10% for training."));
        if (!ModelArchitectures.Names.Contains(Architecture))
            problems.Add($"Unknown model '{Architecture}' (known: {string.Join(", ", ModelArchitectures.Names)}).");
        else
        {
            var type = ModelArchitectures.Describe(Architecture);
            if (FineTune && !type.Pretrained)
                problems.Add($"Fine-tuning applies to pretrained models only; '{Architecture}' is trained from scratch.");
            if (Crop is { } crop && type.CropProblem(crop) is { } cropProblem)
                problems.Add(cropProblem);
        }
        if (WeightDecay is < 0 or > 1 || double.IsNaN(WeightDecay))
            problems.Add(Invariant($"Weight decay must be between 0 and 1 (got {WeightDecay})."));
        if (Dropout is < 0 or > 0.9 || double.IsNaN(Dropout))
            problems.Add(Invariant($"Dropout must be between 0 and 0.9 (got {Dropout})."));
        if (Patience is < 0 or > MaxEpochs)
            problems.Add(Invariant($"Early-stopping patience must be between 0 (off) and {MaxEpochs} (got {Patience})."));
        if (Patience > 0 && ValidationFraction <= 0)
            problems.Add("Early stopping watches the validation loss; set a validation fraction above 0 or patience to 0.");
        if (Device == DevicePreference.Cuda && !cudaAvailable)
            problems.Add(CudaUnavailable);
        return problems;
    }

    /// <summary>Throws <see cref="RunRecipeException"/> with every problem when the recipe cannot work.</summary>
    public RunRecipe EnsureValid(bool cudaAvailable) =>
        Problems(cudaAvailable) is { Count: > 0 } problems ? throw new RunRecipeException(problems) : this;

    /// <summary>
    /// The preset this recipe still follows: <see cref="Preset"/> when no model or training option
    /// was changed after choosing it, else null, so a record never claims a preset it did not use.
    /// </summary>
    public string? EffectivePreset() =>
        Preset is { } preset && Presets.Contains(preset) && SameModelAndTraining(WithPreset(preset)) ? preset : null;

    /// <summary>This recipe as it is recorded: its preset only if it still follows it.</summary>
    public RunRecipe Recorded() => this with { Preset = EffectivePreset() };

    /// <summary>Whether the model and training options (everything a preset sets) equal <paramref name="other"/>'s.</summary>
    public bool SameModelAndTraining(RunRecipe other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return (this with { ValidationFraction = 0, TestFraction = 0, Seed = 0, Device = default, Preset = null })
            == (other with { ValidationFraction = 0, TestFraction = 0, Seed = 0, Device = default, Preset = null });
    }

    /// <summary>The options of one fit (Keras's <c>fit</c> arguments) this recipe asks for.</summary>
    public FitOptions ToFitOptions() => new()
    {
        Epochs = Epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        Seed = Seed,
        Augmentation = Augment ? AugmentOptions.Standard : null,
        WeightDecay = WeightDecay,
        EarlyStoppingPatience = Patience,
        Schedule = Schedule,
    };

    public ModelOptions ToModelOptions() => new(Dropout, FineTune);

    public SplitFractions ToSplit() => new(ValidationFraction, TestFraction);

    /// <summary>The run's split of <paramref name="images"/>: stratified, seeded, each near-duplicate group whole. Every run, recorded or not, splits here.</summary>
    public DataSplit Split(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return DataSplit.Stratified(images.Labels, ToSplit(), Seed, images.Groups);
    }

    /// <summary>How photos must be prepared for this recipe's model: load the training images with it.</summary>
    /// <exception cref="ArgumentException">The crop does not give the views the model reads.</exception>
    public ImagePreparation Preparation()
    {
        var type = ModelArchitectures.Describe(Architecture);
        var crop = Crop ?? type.DefaultCrop;
        if (type.CropProblem(crop) is { } problem)
            throw new ArgumentException(problem);
        var detection = type.ReadsRaisedHands ? FaceDetection.Default with { RaisedHands = RaisedHands.Default } : FaceDetection.Default;
        return new ImagePreparation(type.InputSize, crop, 0, crop == CropMode.None ? null : detection);
    }

    /// <summary>
    /// The packages of pretrained weights training with this recipe reads: face-api's for finding
    /// faces, and those its model starts from. Fetch them first (with progress) where a download
    /// should not surprise anyone.
    /// </summary>
    public IReadOnlyList<NpmPackage> PretrainedPackages()
    {
        IEnumerable<NpmPackage> packages = ModelArchitectures.Describe(Architecture).PretrainedFrom;
        if (Preparation().DetectsFaces)
            packages = packages.Prepend(FaceApiPackage.Package);
        return [.. packages.Distinct()];
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A recipe that cannot work; <see cref="Exception.Message"/> joins the problems, one per sentence.</summary>
public sealed class RunRecipeException(IReadOnlyList<string> problems) : ArgumentException(string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>An enum as a lower-case word (auto, cuda, cosine), however the rest of a document names things.</summary>
public sealed class LowercaseEnumJsonConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower)
    where TEnum : struct, Enum;
