namespace HappySad.Training.Training;

/// <summary>Settings of one fit, with the notebook's values as defaults.</summary>
public sealed record FitOptions
{
    public int Epochs { get; init; } = 20;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Seeds the per-epoch shuffle and torch's generator: the same seed gives the same numbers on CPU.</summary>
    public int Seed { get; init; } = 42;

    public void Validate()
    {
        if (Epochs < 1)
            throw new ArgumentException($"epochs must be at least 1 (got {Epochs})");
        if (BatchSize < 1)
            throw new ArgumentException($"batch size must be at least 1 (got {BatchSize})");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            throw new ArgumentException($"learning rate must be a positive number (got {LearningRate})");
    }
}

/// <summary>One finished epoch, named as Keras logs it (validation values carry a Val prefix).</summary>
public sealed record EpochMetrics(int Epoch, double Loss, double Accuracy, double? ValLoss, double? ValAccuracy, double Seconds);

/// <summary>One finished batch, for progress bars. <see cref="Epoch"/> and <see cref="Batch"/> count from 1.</summary>
public sealed record BatchProgress(int Epoch, int Batch, int BatchesPerEpoch, double Loss);

/// <summary>The epochs a fit ran, in order.</summary>
public sealed record TrainingHistory(IReadOnlyList<EpochMetrics> Epochs, bool StoppedEarly)
{
    public EpochMetrics? Last => Epochs.Count == 0 ? null : Epochs[^1];

    public EpochMetrics? BestByValidationAccuracy =>
        Epochs.Where(e => e.ValAccuracy is not null).MaxBy(e => e.ValAccuracy);
}

/// <summary>What callbacks may read and change while a fit runs.</summary>
public sealed class TrainingContext(FitOptions options)
{
    public FitOptions Options { get; } = options;

    /// <summary>Set by a callback (such as early stopping) to end the fit after the current epoch.</summary>
    public bool StopTraining { get; set; }
}

/// <summary>Hooks into a fit, Keras style. Every hook is optional.</summary>
public interface ITrainingCallback
{
    void OnTrainBegin(TrainingContext context) { }
    void OnBatchEnd(BatchProgress progress, TrainingContext context) { }
    void OnEpochEnd(EpochMetrics metrics, TrainingContext context) { }
    void OnTrainEnd(TrainingHistory history, TrainingContext context) { }
}

/// <summary>Adapts delegates to <see cref="ITrainingCallback"/>, for callers that want one or two hooks.</summary>
public sealed class LambdaCallback(Action<EpochMetrics>? onEpochEnd = null, Action<BatchProgress>? onBatchEnd = null) : ITrainingCallback
{
    public void OnBatchEnd(BatchProgress progress, TrainingContext context) => onBatchEnd?.Invoke(progress);
    public void OnEpochEnd(EpochMetrics metrics, TrainingContext context) => onEpochEnd?.Invoke(metrics);
}
