using HappySad.Training.Data;
using static TorchSharp.torch;

namespace HappySad.Training.Training;

/// <summary>How the learning rate moves over a fit.</summary>
public enum LearningRateSchedule
{
    /// <summary>The same rate every epoch (the notebook).</summary>
    Constant,

    /// <summary>Cosine annealing from the rate down to 1% of it at the last epoch.</summary>
    Cosine,
}

/// <summary>Settings of one fit, with the notebook's values as defaults.</summary>
public sealed record FitOptions
{
    public int Epochs { get; init; } = 20;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Seeds each epoch's shuffle, augmentation and torch's generator (<see cref="EpochSeeds"/>): the same seed gives the same numbers on CPU.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Random changes to training images each epoch; null trains on the images as they are (the notebook).</summary>
    public AugmentOptions? Augmentation { get; init; }

    /// <summary>Decoupled weight decay (AdamW) when above 0; 0 keeps plain Adam (the notebook).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Stops after this many epochs without a lower validation loss and restores the best epoch's weights; 0 turns it off.</summary>
    public int EarlyStoppingPatience { get; init; }

    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    public void Validate()
    {
        Augmentation?.Validate();
        if (WeightDecay is < 0 or > 1 || double.IsNaN(WeightDecay))
            throw new ArgumentException($"weight decay must be between 0 and 1 (got {WeightDecay})");
        if (EarlyStoppingPatience < 0)
            throw new ArgumentException($"early-stopping patience must be 0 (off) or more (got {EarlyStoppingPatience})");
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

/// <summary>
/// The epochs a fit ran, in order. <see cref="RestoredEpoch"/> is the epoch whose weights the model
/// ended with, when early stopping rolled back to it. <see cref="ResumedAfterEpoch"/> is the epoch of
/// the checkpoint the fit went on from (0 when it started afresh); the epochs up to it come from there.
/// </summary>
public sealed record TrainingHistory(IReadOnlyList<EpochMetrics> Epochs, bool StoppedEarly, int? RestoredEpoch = null, int ResumedAfterEpoch = 0)
{
    public EpochMetrics? Last => Epochs.Count == 0 ? null : Epochs[^1];

    public EpochMetrics? BestByValidationAccuracy =>
        Epochs.Where(e => e.ValAccuracy is not null).MaxBy(e => e.ValAccuracy);
}

/// <summary>What callbacks may read and change while a fit runs.</summary>
public sealed class TrainingContext(FitOptions options, nn.Module<Tensor, Tensor> model)
{
    public FitOptions Options { get; } = options;

    /// <summary>The network being fitted, for callbacks that keep or restore weights.</summary>
    public nn.Module<Tensor, Tensor> Model { get; } = model;

    /// <summary>
    /// The epoch of the checkpoint this fit goes on from, 0 when it starts afresh: callbacks hear only
    /// of the epochs after it, and know from this where the fit took up.
    /// </summary>
    public int ResumedAfterEpoch { get; internal set; }

    /// <summary>The epochs the checkpoint this fit goes on from had finished (empty when it starts afresh).</summary>
    public IReadOnlyList<EpochMetrics> ResumedEpochs { get; internal set; } = [];

    /// <summary>Why a checkpoint that was there is not resumed from (the fit starts afresh), or null.</summary>
    public string? CheckpointIgnored { get; internal set; }

    /// <summary>Set by a callback that put back an earlier epoch's weights.</summary>
    public int? RestoredEpoch { get; set; }

    /// <summary>Set by a callback (such as early stopping) to end the fit after the current epoch.</summary>
    public bool StopTraining { get; set; }
}

/// <summary>Hooks into a fit, Keras style. Every hook is optional.</summary>
public interface ITrainingCallback
{
    void OnTrainBegin(TrainingContext context) { }
    void OnBatchEnd(BatchProgress progress, TrainingContext context) { }
    void OnEpochEnd(EpochMetrics metrics, TrainingContext context) { }

    /// <summary>
    /// After <see cref="OnEpochEnd"/> and the epoch's checkpoint (when the fit keeps one): an epoch
    /// reported here is never trained again by a resumed fit. Where to record finished epochs.
    /// </summary>
    void OnEpochSaved(EpochMetrics metrics, TrainingContext context) { }

    void OnTrainEnd(TrainingHistory history, TrainingContext context) { }
}

/// <summary>Adapts delegates to <see cref="ITrainingCallback"/>, for callers that want one or two hooks.</summary>
public sealed class LambdaCallback(Action<EpochMetrics>? onEpochEnd = null, Action<BatchProgress>? onBatchEnd = null) : ITrainingCallback
{
    public void OnBatchEnd(BatchProgress progress, TrainingContext context) => onBatchEnd?.Invoke(progress);
    public void OnEpochEnd(EpochMetrics metrics, TrainingContext context) => onEpochEnd?.Invoke(metrics);
}

/// <summary>A fit whose weights became NaN or infinite (a learning rate too high for the data): its model would answer nothing.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);
