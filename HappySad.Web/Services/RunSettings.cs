using System.Globalization;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Training;

namespace HappySad.Web.Services;

/// <summary>What a person asks for when launching a run, with the notebook's values as defaults.</summary>
public sealed class RunSettings
{
    public const int MaxEpochs = 1000;
    public const int MaxBatchSize = 1024;
    public const double MaxHeldOutFraction = 0.9;

    public int DataSetId { get; set; }
    public int Epochs { get; set; } = 20;
    public int BatchSize { get; set; } = 32;
    public double LearningRate { get; set; } = 1e-3;
    public double ValidationFraction { get; set; } = 0.2;
    public double TestFraction { get; set; } = 0.1;
    public int Seed { get; set; } = 42;
    public DevicePreference Device { get; set; } = DevicePreference.Auto;
    public string Architecture { get; set; } = SeedCnn.ArchitectureName;

    /// <summary>The preset these settings started from (<see cref="BestPreset"/>), or null for hand-picked ones.</summary>
    public string? Preset { get; set; }

    /// <summary>Null: the model type's default (face crop for face models, whole photo otherwise).</summary>
    public CropMode? Crop { get; set; }

    public bool Augment { get; set; }
    public double WeightDecay { get; set; }
    public double Dropout { get; set; } = 0.3;

    /// <summary>Early stopping: epochs without a better validation loss before stopping; 0 is off.</summary>
    public int Patience { get; set; }

    public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Constant;
    public bool FineTune { get; set; }

    public const string NotebookPreset = "notebook";
    public const string BestPreset = "best";
    public static IReadOnlyList<string> Presets { get; } = [NotebookPreset, BestPreset];

    /// <summary>
    /// Sets the model and training options of a preset, keeping the data set, split, seed and device.
    /// <c>best</c> is our recommendation for photos unlike the training ones: the pretrained
    /// face-expression network's own verdict on the largest face (found by the SSD detector), the
    /// lean of the training photos without a face otherwise, three numbers learnt with a cosine schedule and
    /// early stopping (README, "Choosing a model" has the numbers and the reasoning).
    /// </summary>
    public RunSettings WithPreset(string preset)
    {
        var notebook = new RunSettings();
        var result = Clone();
        (result.Epochs, result.BatchSize, result.LearningRate, result.Architecture, result.Crop, result.Augment,
            result.WeightDecay, result.Dropout, result.Patience, result.Schedule, result.FineTune) = preset switch
        {
            NotebookPreset => (notebook.Epochs, notebook.BatchSize, notebook.LearningRate, notebook.Architecture, (CropMode?)null, false,
                0.0, notebook.Dropout, 0, LearningRateSchedule.Constant, false),
            BestPreset => (40, 16, 1e-2, FaceVerdictClassifier.ArchitectureName, null, false,
                0.0, 0.3, 8, LearningRateSchedule.Cosine, false),
            _ => throw new ArgumentException($"unknown preset '{preset}' (known: {string.Join(", ", Presets)})"),
        };
        result.Preset = preset == NotebookPreset ? null : preset;
        return result;
    }

    /// <summary>Everything wrong with the settings themselves, as sentences; empty when they can work. The data set is checked by <see cref="TrainingRunService"/>.</summary>
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

    public const string CudaUnavailable =
        "CUDA is not available here: this build uses the CPU libtorch (build with -p:TorchBackend=cuda for a GPU build) or no NVIDIA GPU is visible.";

    /// <summary>
    /// The preset these settings still follow: <see cref="Preset"/> when no model or training option
    /// was changed after choosing it, else null, so a record never claims a preset it did not use.
    /// </summary>
    public string? EffectivePreset =>
        Preset is { } preset && Presets.Contains(preset) && SameRecipe(WithPreset(preset)) ? preset : null;

    /// <summary>Whether the model and training options (everything a preset sets) equal <paramref name="other"/>'s.</summary>
    public bool SameRecipe(RunSettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return (other.Epochs, other.BatchSize, other.LearningRate, other.Architecture, other.Crop, other.Augment, other.WeightDecay, other.Dropout, other.Patience, other.Schedule, other.FineTune)
            == (Epochs, BatchSize, LearningRate, Architecture, Crop, Augment, WeightDecay, Dropout, Patience, Schedule, FineTune);
    }

    public TrainingRequest ToRequest() => new()
    {
        Fit = new FitOptions
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            Seed = Seed,
            Augmentation = Augment ? AugmentOptions.Standard : null,
            WeightDecay = WeightDecay,
            EarlyStoppingPatience = Patience,
            Schedule = Schedule,
        },
        Split = new SplitFractions(ValidationFraction, TestFraction),
        Device = Device,
        Architecture = Architecture,
        Model = new ModelOptions(Dropout, FineTune),
        Crop = Crop,
        Preset = EffectivePreset,
    };

    public RunSettings Clone() => (RunSettings)MemberwiseClone();

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Settings that cannot work; <see cref="Exception.Message"/> joins the problems, one per sentence.</summary>
public sealed class RunSettingsException(IReadOnlyList<string> problems) : Exception(string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
