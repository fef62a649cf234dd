using System.Text.Json;
using System.Text.Json.Serialization;
using HappySad.Training.Data;

namespace HappySad.Training.Persistence;

/// <summary>
/// Everything needed to use a saved model correctly, stored beside its weights: which network,
/// which classes in which order, how to prepare an image, how it was trained and how well it did.
/// </summary>
public sealed record ModelCard
{
    /// <summary>
    /// Bumped when weight names or the card's meaning or spelling change, so newer files are refused
    /// clearly by older versions. 2: enum values in kebab-case (<c>face-and-whole</c>), as the API and
    /// command line spell them; format 1's snake_case (<c>face_and_whole</c>) is still read.
    /// </summary>
    public const int CurrentFormatVersion = 2;

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public required string Architecture { get; init; }
    public required IReadOnlyList<string> ClassNames { get; init; }
    public long Parameters { get; init; }
    public Preprocessing Preprocessing { get; init; } = new();
    public TrainingSettings? Training { get; init; }
    public ModelMetrics? Metrics { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The class a probability above the threshold means (index 1, <c>sad</c> for the notebook's data).</summary>
    [JsonIgnore]
    public string PositiveClass => ClassNames[1];

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new KebabCaseEnumConverter() },
    };
}

/// <summary>How an image becomes network input; prediction applies exactly this.</summary>
public sealed record Preprocessing
{
    public int InputSize { get; init; } = 256;
    public string Resize { get; init; } = "bilinear, aspect ratio ignored";
    public string ColorSpace { get; init; } = "rgb";
    public string Scale { get; init; } = "0..1 (pixel / 255)";
    public string Layout { get; init; } = "nchw";

    /// <summary>Whether photos are cropped to their largest face first (absent in cards written before face crops existed: none).</summary>
    public CropMode Crop { get; init; } = CropMode.None;

    /// <summary>How far the face crop reaches beyond the detector's box, as a fraction of the box on each side.</summary>
    public double FaceMargin { get; init; }

    /// <summary>The face detector a face crop uses, in words, so a card says where its crops came from.</summary>
    public string? FaceDetector { get; init; }

    /// <summary>The face detector and its settings, which prediction uses; absent in older cards, whose face crops used <see cref="Faces.FaceDetection.Legacy"/>.</summary>
    public Faces.FaceDetection? FaceDetection { get; init; }
}

public sealed record TrainingSettings
{
    public int Epochs { get; init; }
    public int EpochsRun { get; init; }
    public int BatchSize { get; init; }
    public double LearningRate { get; init; }
    public int Seed { get; init; }
    public double ValidationFraction { get; init; }
    public double TestFraction { get; init; }
    public string? DataDirectory { get; init; }
    public int TrainImages { get; init; }
    public int ValidationImages { get; init; }
    public int TestImages { get; init; }
    public string Device { get; init; } = "cpu";
    public double Seconds { get; init; }
    public string? Preset { get; init; }
    public AugmentOptions? Augmentation { get; init; }
    public double WeightDecay { get; init; }
    public int EarlyStoppingPatience { get; init; }

    /// <summary>The epoch whose weights were kept, when early stopping rolled back to it.</summary>
    public int? RestoredEpoch { get; init; }

    public Training.LearningRateSchedule Schedule { get; init; }
    public double? Dropout { get; init; }
    public bool FineTune { get; init; }
    public long? TrainableParameters { get; init; }
}

public sealed record ModelMetrics
{
    public double Loss { get; init; }
    public double Accuracy { get; init; }
    public double? ValLoss { get; init; }
    public double? ValAccuracy { get; init; }
    public double? TestAccuracy { get; init; }
    public double? TestPrecision { get; init; }
    public double? TestRecall { get; init; }
    public double? TestF1 { get; init; }
    public double? TestBalancedAccuracy { get; init; }
}
