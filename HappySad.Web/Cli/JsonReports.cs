using System.Text.Json.Serialization;
using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Faces;
using HappySad.Training.Training;
using HappySad.Web.DataSets;

namespace HappySad.Web.Cli;

// What each verb prints with --json: one record per verb, one shape whatever the options. Property
// names are written in snake_case (CliContext.Json, the model card's naming), and null values are
// left out. Scripts read these: rename nothing. The README's "Command line" section lists them.

/// <summary>The metrics scripts rely on, for <c>evaluate</c> and <c>train</c>'s test set.</summary>
internal record MetricsReport(double Accuracy, double Precision, double Recall, double F1, double BalancedAccuracy, int Tp, int Fp, int Tn, int Fn, int N)
{
    public static MetricsReport From(BinaryMetrics m) =>
        new(m.Accuracy, m.Precision, m.Recall, m.F1, m.BalancedAccuracy, m.TruePositives, m.FalsePositives, m.TrueNegatives, m.FalseNegatives, m.Count);
}

/// <summary><c>evaluate --json</c>: the metrics, and the same metrics per region a face model read (<see cref="HappySad.Training.Prediction.ImageRegion.All"/>: <c>face</c>, <c>raised hands (small face)</c>, <c>raised hands (no face found)</c>, <c>whole image (no face found)</c>).</summary>
internal sealed record EvaluateReport(double Accuracy, double Precision, double Recall, double F1, double BalancedAccuracy, int Tp, int Fp, int Tn, int Fn, int N,
    [property: JsonPropertyOrder(1)] IReadOnlyDictionary<string, MetricsReport> ByRegion)
    : MetricsReport(Accuracy, Precision, Recall, F1, BalancedAccuracy, Tp, Fp, Tn, Fn, N)
{
    public static EvaluateReport From(BinaryMetrics m, IEnumerable<KeyValuePair<string, BinaryMetrics>> byRegion) =>
        new(m.Accuracy, m.Precision, m.Recall, m.F1, m.BalancedAccuracy, m.TruePositives, m.FalsePositives, m.TrueNegatives, m.FalseNegatives, m.Count,
            byRegion.ToDictionary(r => r.Key, r => MetricsReport.From(r.Value)));
}

/// <summary>
/// <c>train --json</c>, with or without <c>--record</c>. <see cref="Model"/> is the saved model (under
/// the data directory when recorded); the last four are there only for a recorded run. <see cref="Test"/>
/// is null, and written as null, when no photo was kept for testing (<c>--test 0</c>): metrics of no
/// photos are not zeros.
/// </summary>
internal sealed record TrainReport(
    string Model,
    IReadOnlyList<string> Classes,
    string? Device,
    TrainImages Images,
    IReadOnlyList<EpochMetrics> Epochs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] MetricsReport? Test,
    double? Seconds,
    int? RunId = null,
    string? DataDirectory = null,
    string? CopiedTo = null,
    string? Snapshot = null);

/// <param name="Rejected">Photos in the folder that could not be used.</param>
internal sealed record TrainImages(int Train, int Validation, int Test, int Rejected);

/// <summary><c>predict --json</c> prints a list of these: a verdict, or <see cref="Error"/> for a photo that could not be read.</summary>
internal sealed record PredictReport(
    string Path,
    string? Label = null,
    double? Probability = null,
    IReadOnlyDictionary<string, double>? Probabilities = null,
    bool? LowConfidence = null,
    string? Region = null,
    FaceBox? Face = null,
    string? Error = null);

/// <summary><c>crossval --json</c>.</summary>
internal sealed record CrossValidationReport(
    string Model,
    string Crop,
    FitOptions Settings,
    IReadOnlyList<FoldReport> Folds,
    MeanAndSd BalancedAccuracy,
    double Accuracy,
    double SecondsPerEpoch,
    int? FacesFound,
    int Images,
    LatencyReport LatencyMs,
    PretrainedBaselineReport? PretrainedBaseline,
    ByFaceReport? ByFace);

internal sealed record FoldReport(int Fold, double BalancedAccuracy, double Accuracy, int N, int EpochsRun, int? RestoredEpoch, double SecondsPerEpoch);

internal sealed record MeanAndSd(double Mean, double Sd);

internal sealed record LatencyReport(double P50, double P95, int Samples);

internal sealed record PretrainedBaselineReport(int Faces, double BalancedAccuracy, double Accuracy);

internal sealed record ByFaceReport(SubsetReport WithFace, SubsetReport WithoutFace);

internal sealed record SubsetReport(int N, double BalancedAccuracy, double Accuracy)
{
    public static SubsetReport From(BinaryMetrics m) => new(m.Count, m.BalancedAccuracy, m.Accuracy);
}

/// <summary><c>scan --json</c>.</summary>
internal sealed record ScanJsonReport(IReadOnlyList<string> Classes, int Files, int Usable, IReadOnlyList<ScanRejected> Rejected, IReadOnlyList<ScanMislabeled> Mislabeled);

/// <param name="MovedTo">Where <c>--quarantine</c> moved it.</param>
internal sealed record ScanRejected(string Path, string Class, RejectionKind Kind, string Reason, string? MovedTo);

internal sealed record ScanMislabeled(string Path, string Reason);

/// <summary><c>faces --json</c> prints a list of these, one per detector setting; recall and false detections need <c>--labels</c>.</summary>
internal sealed record FacesReport(
    string Setting,
    int Photos,
    int Found,
    double FoundShare,
    int Faces,
    int FacesFound,
    double? Recall,
    int NoFace,
    int FalseDetections,
    double? FalseDetectionRate,
    int Drawn,
    int DrawnFound,
    int Tiny,
    int TinyFound,
    double MsP50,
    double MsP95,
    IReadOnlyList<string> Missed,
    IReadOnlyList<string> FalselyFound);

/// <summary><c>import --json</c>; <see cref="Files"/> lists the photos not accepted.</summary>
internal sealed record ImportReport(int DataSetId, string Name, string DataDirectory, int Accepted, int Rejected, int Duplicates, IReadOnlyList<ImportedFile> Files);

internal sealed record ImportedFile(string Name, UploadStatus Status, string? Class, string? Reason);

/// <summary><c>users list --json</c> prints a list of these: what the users page shows, and nothing of the credentials.</summary>
internal sealed record UserReport(string Name, string Role, bool LockedOut);

/// <summary><c>info --json</c>.</summary>
internal sealed record InfoReport(string Device, bool CudaAvailable, int TorchThreads, int Processors, string Libstdcxx, bool AllocatorTuned, string JpegDecoder);

/// <summary><c>bench</c> (always JSON): speed and memory of the core on this machine.</summary>
internal sealed record BenchReport(
    string Device,
    int Processors,
    int TorchThreads,
    int Images,
    double DecodeImagesPerSecond,
    double TrainingImagesPerSecond,
    double TrainingFirstEpochImagesPerSecond,
    double TrainingGflops,
    double MatmulGflops,
    double TrainingToMatmulRatio,
    [property: JsonPropertyName("predict_1mp_jpeg_p50_ms")] double Predict1MpJpegP50Ms,
    [property: JsonPropertyName("predict_1mp_jpeg_p95_ms")] double Predict1MpJpegP95Ms,
    string FaceModel,
    string FaceDetection,
    [property: JsonPropertyName("predict_face_model_1mp_jpeg_p50_ms")] double PredictFaceModel1MpJpegP50Ms,
    [property: JsonPropertyName("predict_face_model_1mp_jpeg_p95_ms")] double PredictFaceModel1MpJpegP95Ms,
    [property: JsonPropertyName("predict_face_model_small_face_1mp_jpeg_p50_ms")] double? PredictFaceModelSmallFace1MpJpegP50Ms,
    [property: JsonPropertyName("predict_face_model_small_face_1mp_jpeg_p95_ms")] double? PredictFaceModelSmallFace1MpJpegP95Ms,
    [property: JsonPropertyName("predict_face_model_no_face_1mp_jpeg_p50_ms")] double PredictFaceModelNoFace1MpJpegP50Ms,
    [property: JsonPropertyName("predict_face_model_no_face_1mp_jpeg_p95_ms")] double PredictFaceModelNoFace1MpJpegP95Ms,
    double PeakWorkingSetMb,
    bool AllocatorTuned,
    string JpegDecoder);

/// <summary><c>bench --api URL ...</c>: the predict endpoint's latency and throughput at each number of concurrent clients.</summary>
internal sealed record ApiBenchReport(string Model, int Seconds, int WarmUpRequests, IReadOnlyList<ApiBenchLevel> Levels);

/// <summary>One number of clients sending one-photo requests back to back: latencies of the requests that succeeded.</summary>
internal sealed record ApiBenchLevel(int Clients, int Requests, int Errors, double PredictionsPerSecond, double P50Ms, double P95Ms)
{
    /// <summary>The app's processor time (all threads, user and system) over the level, per answered request; null against an app on another machine.</summary>
    public double? AppProcessorMsPerPrediction { get; init; }

    /// <summary>The bench's own processor time over the level, per answered request: what the client took from the same cores.</summary>
    public double? ClientProcessorMsPerPrediction { get; init; }
}

/// <summary><c>bench --serve MODEL...</c>: each model's <see cref="ApiBenchReport"/> from one app, and that app's peak resident memory.</summary>
internal sealed record ServeBenchReport(int Processors, IReadOnlyList<ApiBenchReport> Models, double? AppPeakWorkingSetMb, string JpegDecoder);
