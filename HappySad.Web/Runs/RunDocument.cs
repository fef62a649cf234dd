using HappySad.Training.Training;
using HappySad.Web.Data;

namespace HappySad.Web.Runs;

/// <summary>A run as the HTTP API shows it.</summary>
public sealed record RunDocument(
    int Id,
    string? Name,
    string? Notes,
    RunStatus Status,
    RunSource Source,
    string? Message,
    int? DataSetId,
    string DataName,
    RunRecipe Settings,
    string? Device,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    SnapshotDocument Snapshot,
    TestDocument? Test,
    ModelDocument? Model,
    IReadOnlyList<EpochCompletedMessage>? Epochs,
    IReadOnlyList<AttemptDocument>? Attempts)
{
    public static RunDocument From(TrainingRun run, bool withEpochs)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new RunDocument(
            run.Id, run.Name, run.Notes, run.Status, run.Source, run.Message, run.DataSetId, run.DataName,
            run.Recipe,
            run.Device, run.CreatedAt, run.StartedAt, run.FinishedAt,
            new SnapshotDocument(run.SnapshotHash, run.ClassNames, run.TrainImages, run.ValidationImages, run.TestImages, run.SkippedImages, run.NearDuplicateGroups, run.NearDuplicatePhotos, run.LabelConflicts),
            run.TestAccuracy is null ? null : new TestDocument(
                run.TestAccuracy.Value, run.TestPrecision ?? 0, run.TestRecall ?? 0, run.TestF1 ?? 0, run.TestBalancedAccuracy ?? 0,
                run.TruePositives ?? 0, run.FalsePositives ?? 0, run.TrueNegatives ?? 0, run.FalseNegatives ?? 0),
            run.ModelPath is null ? null : new ModelDocument($"/api/runs/{run.Id}/model", run.ModelBytes ?? 0, run.ModelSha256 ?? ""),
            withEpochs ? [.. run.History.Select(e => RunService.ToMessage(run, e))] : null,
            withEpochs ? [.. run.Attempts.OrderBy(a => a.Number).Select(a => new AttemptDocument(a.Number, a.Worker, a.FromEpoch, a.StartedAt, a.EndedAt, a.Outcome))] : null);
    }
}

/// <summary>Which data set a launch trains on; the rest of the launch body is the <see cref="RunRecipe"/>.</summary>
public sealed record LaunchTarget(int DataSetId);

/// <summary>What a run trained on; the near-duplicate counts (groups kept whole in one split) are null for runs from before they were recorded.</summary>
public sealed record SnapshotDocument(string? Hash, IReadOnlyList<string> ClassNames, int TrainImages, int ValidationImages, int TestImages, int SkippedImages, int? NearDuplicateGroups, int? NearDuplicatePhotos, int? LabelConflicts);

/// <summary>Test metrics; the positive class is the second class name.</summary>
public sealed record TestDocument(double Accuracy, double Precision, double Recall, double F1, double BalancedAccuracy, int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives);

/// <summary>One go at training the run, by one worker (a second attempt resumed where a lost worker stopped).</summary>
public sealed record AttemptDocument(int Number, string Worker, int FromEpoch, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string? Outcome);

public sealed record ModelDocument(string Download, long Bytes, string Sha256);