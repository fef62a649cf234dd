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
        if (Device == DevicePreference.Cuda && !cudaAvailable)
            problems.Add(CudaUnavailable);
        return problems;
    }

    public const string CudaUnavailable =
        "CUDA is not available here: this build uses the CPU libtorch (build with -p:TorchBackend=cuda for a GPU build) or no NVIDIA GPU is visible.";

    public TrainingRequest ToRequest() => new()
    {
        Fit = new FitOptions { Epochs = Epochs, BatchSize = BatchSize, LearningRate = LearningRate, Seed = Seed },
        Split = new SplitFractions(ValidationFraction, TestFraction),
        Device = Device,
        Architecture = Architecture,
    };

    public RunSettings Clone() => (RunSettings)MemberwiseClone();

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Settings that cannot work; <see cref="Exception.Message"/> joins the problems, one per sentence.</summary>
public sealed class RunSettingsException(IReadOnlyList<string> problems) : Exception(string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
