using HappySad.Training.Training;

namespace HappySad.Web.Data;

public enum RunStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,

    /// <summary>The process stopped (shut down or crashed) while the run was training.</summary>
    Interrupted,
}

public enum RunSource
{
    Dashboard,
    CommandLine,
}

/// <summary>
/// One training run: its recipe as asked, the data it saw, its progress and its results. A row
/// exists from the moment a run is asked for (Queued), so nothing asked for is ever lost.
/// </summary>
public sealed class TrainingRun
{
    public int Id { get; set; }
    public RunSource Source { get; set; }
    public RunStatus Status { get; set; }

    /// <summary>At most this many characters in <see cref="Name"/>.</summary>
    public const int NameMaxLength = 100;

    /// <summary>At most this many characters in <see cref="Notes"/>.</summary>
    public const int NotesMaxLength = 2000;

    /// <summary>A name a person gave the run ("baseline", "with faces"), shown beside its number; null until given.</summary>
    public string? Name { get; set; }

    /// <summary>What a person wants to remember about the run: why it was launched, what it showed.</summary>
    public string? Notes { get; set; }

    /// <summary>"Run 7", or "Run 7 · baseline" once named: how every page and picker titles it.</summary>
    public string Title => Name is null ? $"Run {Id}" : $"Run {Id} · {Name}";

    /// <summary>The data set trained on; null for a folder trained from the command line or once the data set is deleted.</summary>
    public int? DataSetId { get; set; }

    /// <summary>The data set's name, or the folder's path, as it was when the run was asked for.</summary>
    public required string DataName { get; set; }

    /// <summary>What was asked for: the model and how to train it, as launched (its preset only if it still followed it).</summary>
    public RunRecipe Recipe { get; set; } = new();

    /// <summary>The device it actually ran on (<c>cpu</c>, <c>cuda</c>), known once it starts.</summary>
    public string? Device { get; set; }

    /// <summary>The process training it, so that a start-up can tell a command-line run still alive from an abandoned one.</summary>
    public int? ProcessId { get; set; }

    /// <summary>The user (by name) who launched it from the dashboard or the API; null for the command line and for runs from before accounts.</summary>
    public string? CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Why it failed, or a note on how it was cancelled or interrupted.</summary>
    public string? Message { get; set; }

    // The snapshot of the data, taken when the run starts (its images are in RunImages).
    public List<string> ClassNames { get; set; } = [];

    /// <summary>SHA-256 over the sorted class/content-hash pairs: equal for two runs exactly when they saw the same photos with the same labels.</summary>
    public string? SnapshotHash { get; set; }

    public int TrainImages { get; set; }
    public int ValidationImages { get; set; }
    public int TestImages { get; set; }

    /// <summary>Photos listed when the run started that could not be used (gone or no longer decodable).</summary>
    public int SkippedImages { get; set; }

    /// <summary>With a face crop: how many of the run's photos had a face (the rest were used whole).</summary>
    public int? FacesFound { get; set; }

    /// <summary>Near-duplicate groups (two or more photos of the same picture) the split kept whole; null for runs from before groups were recorded.</summary>
    public int? NearDuplicateGroups { get; set; }

    /// <summary>The photos in those groups.</summary>
    public int? NearDuplicatePhotos { get; set; }

    /// <summary>Groups whose photos carry both labels: the same picture as happy and as sad, a label conflict.</summary>
    public int? LabelConflicts { get; set; }

    // Results.
    public double? BestValAccuracy { get; set; }
    public int? BestEpoch { get; set; }

    /// <summary>The epoch whose weights the model kept, when early stopping rolled back to it.</summary>
    public int? RestoredEpoch { get; set; }
    public double? TestAccuracy { get; set; }
    public double? TestPrecision { get; set; }
    public double? TestRecall { get; set; }
    public double? TestF1 { get; set; }
    public double? TestBalancedAccuracy { get; set; }
    public int? TruePositives { get; set; }
    public int? FalsePositives { get; set; }
    public int? TrueNegatives { get; set; }
    public int? FalseNegatives { get; set; }

    /// <summary>Relative to the data directory.</summary>
    public string? ModelPath { get; set; }
    public long? ModelBytes { get; set; }
    public string? ModelSha256 { get; set; }

    /// <summary>When a person asked a running run to stop; a worker that claims the run after that cancels it instead of resuming it.</summary>
    public DateTimeOffset? CancelRequestedAt { get; set; }

    public List<RunEpoch> History { get; set; } = [];
    public List<RunImage> Images { get; set; } = [];

    /// <summary>Each time a worker (or the app's own) started or resumed the run, in order.</summary>
    public List<RunAttempt> Attempts { get; set; } = [];

    public bool IsActive => Status is RunStatus.Queued or RunStatus.Running;

    public TimeSpan? Duration => StartedAt is { } started && FinishedAt is { } finished ? finished - started : null;
}

/// <summary>
/// One go at training a run, by one worker: the first starts at epoch 1; when a worker dies, the
/// next worker to claim the run resumes from the epoch after the last checkpoint.
/// </summary>
public sealed class RunAttempt
{
    public int RunId { get; set; }

    /// <summary>1 for the first attempt.</summary>
    public int Number { get; set; }

    /// <summary>The worker's name (<c>worker --name</c>, or machine name and process id).</summary>
    public required string Worker { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    /// <summary>The first epoch this attempt trained (epochs before it came from the checkpoint).</summary>
    public int FromEpoch { get; set; }

    /// <summary>When the attempt ended; null while it runs or when its worker vanished (the next attempt says so).</summary>
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>How it ended, in words: the run's status, or "worker lost" when another worker took over.</summary>
    public string? Outcome { get; set; }
}

/// <summary>One finished epoch of a run, written as soon as the epoch ends.</summary>
public sealed class RunEpoch
{
    public int RunId { get; set; }
    public int Epoch { get; set; }
    public double Loss { get; set; }
    public double Accuracy { get; set; }
    public double? ValLoss { get; set; }
    public double? ValAccuracy { get; set; }
    public double Seconds { get; set; }
}

public enum RunSplit
{
    Train,
    Validation,
    Test,
}

/// <summary>One image of a run's snapshot: which photo, its content hash, its label and split, and for the test split the model's verdict.</summary>
public sealed class RunImage
{
    public int Id { get; set; }
    public int RunId { get; set; }

    /// <summary>The data set photo, when the run trained on a data set (the photo may since have been deleted).</summary>
    public int? PhotoId { get; set; }

    /// <summary>Relative to the data set or folder: <c>class/file</c>.</summary>
    public required string Path { get; set; }

    /// <summary>The name a person knows the photo by (the uploaded file's name), for display.</summary>
    public required string Name { get; set; }
    public required string Sha256 { get; set; }
    public int Label { get; set; }
    public RunSplit Split { get; set; }

    /// <summary>The near-duplicate group it shares with other images of the run (the group's first image's position in the snapshot); null when it has no twin.</summary>
    public int? Group { get; set; }
    public int? Predicted { get; set; }

    /// <summary>The model's probability of the second class (index 1).</summary>
    public double? Probability { get; set; }

    public bool IsMistake => Predicted is { } predicted && predicted != Label;
}
