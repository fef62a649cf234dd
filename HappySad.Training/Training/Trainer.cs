using System.Diagnostics;
using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Models;
using HappySad.Training.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace HappySad.Training.Training;

/// <summary>
/// Fits a binary classifier that outputs one logit per image: Adam, binary cross-entropy on logits,
/// reporting each batch and epoch to callbacks. Cancellation is checked before every batch, so it
/// takes effect within one batch.
/// </summary>
public sealed class Trainer
{
    /// <summary>
    /// Images per forward/backward pass; gradients of a batch's micro-batches accumulate before one
    /// optimizer step, so the update equals the whole batch's. Kept small so that no activation
    /// buffer reaches glibc's 64 MB per-thread heap size: larger ones are mmap-ed and unmapped on
    /// every batch, and the kernel's page faulting then cost as much as the arithmetic (conv1's
    /// output is 4 MB an image: 132 MB for a batch of 32). Measured with <c>bench</c>: 46 images/s
    /// at 32, 91 at 8, on two cores.
    /// </summary>
    internal const int MicroBatch = 8;

    readonly Device _device;

    /// <summary>
    /// Reads each photo through a frozen front once per fit rather than once an epoch
    /// (<see cref="IFrozenFront"/>, <see cref="FrontReadings"/>); off only to show, in a test, that
    /// both ways train the same model.
    /// </summary>
    internal bool ReadsFrozenFrontsOnce { get; init; } = true;

    public Trainer(Device device)
    {
        TorchRuntime.EnsureInitialized();
        _device = device;
    }

    public Task<TrainingHistory> FitAsync(
        nn.Module<Tensor, Tensor> model,
        ImageSet train,
        ImageSet? validation,
        FitOptions options,
        IEnumerable<ITrainingCallback>? callbacks = null,
        TrainingCheckpoint? checkpoint = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (train.Count == 0)
            throw new DataSetException("the training split is empty");
        var hooks = callbacks?.ToList() ?? [];
        // A fit runs for minutes: give it its own thread rather than holding a pool thread. A thread
        // born after TorchRuntime tuned the allocator also shares the main malloc arena (NativeMemory).
        return Task.Factory.StartNew(
            () => Fit(model, train, validation, options, hooks, checkpoint, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    TrainingHistory Fit(nn.Module<Tensor, Tensor> model, ImageSet train, ImageSet? validation, FitOptions options, List<ITrainingCallback> callbacks, TrainingCheckpoint? checkpoint, CancellationToken cancellationToken)
    {
        model.to(_device);
        // Frozen (pretrained) parameters stay out of the optimizer: no moments kept, no decay applied.
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using optim.Optimizer optimizer = options.WeightDecay > 0
            ? optim.AdamW(trainable, options.LearningRate, weight_decay: options.WeightDecay)
            : optim.Adam(trainable, options.LearningRate);
        var schedule = options.Schedule == LearningRateSchedule.Cosine
            ? optim.lr_scheduler.CosineAnnealingLR(optimizer, options.Epochs, options.LearningRate / 100)
            : null;
        using var earlyStopping = options.EarlyStoppingPatience > 0 ? new EarlyStopping(options.EarlyStoppingPatience) : null;
        if (earlyStopping is not null)
            callbacks = [earlyStopping, .. callbacks];
        var context = new TrainingContext(options, model);
        var epochs = new List<EpochMetrics>();
        var batchesPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;

        var fingerprint = checkpoint?.Fingerprint(options, model, train, validation);
        var (resume, ignored) = checkpoint is null ? (null, null) : checkpoint.TryRead(fingerprint!);
        context.CheckpointIgnored = ignored;
        if (resume is not null)
        {
            // The schedule's rate is computed from the one before, so it is replayed step by step as the
            // uninterrupted fit took it; the optimizer's state (moments, steps, rate) then comes from the file.
            for (var epoch = 1; epoch <= resume.State.Epoch; epoch++)
                schedule?.step();
            CheckpointTensors.ReadTraining(resume.Tensors, model, optimizer);
            epochs.AddRange(resume.State.History);
            context.ResumedAfterEpoch = resume.State.Epoch;
            context.ResumedEpochs = resume.State.History;
            context.StopTraining = resume.State.StopTraining;
        }
        callbacks.ForEach(c => c.OnTrainBegin(context));
        if (resume is not null)
            CheckpointTensors.ReadEarlyStopping(resume.Tensors, model, earlyStopping);

        // Nothing varies a photo between epochs and the front learns nothing: read each photo through it once.
        var frozen = ReadsFrozenFrontsOnce && options.Augmentation is null && model is IFrozenFront { FrontIsFrozen: true } front ? front : null;
        using var trainFronts = frozen is null ? null : new FrontReadings(train.Count);
        using var validationFronts = frozen is null || validation is not { Count: > 0 } ? null : new FrontReadings(validation.Count);

        for (var epoch = context.ResumedAfterEpoch + 1; epoch <= options.Epochs && !context.StopTraining; epoch++)
        {
            var clock = Stopwatch.StartNew();
            model.train();
            // Every random stream starts afresh from (seed, epoch): a resumed epoch draws what the uninterrupted one drew.
            manual_seed(EpochSeeds.Torch(options.Seed, epoch));
            var shuffle = new Random(EpochSeeds.Shuffle(options.Seed, epoch));
            var augment = options.Augmentation is null ? null : new Random(EpochSeeds.Augment(options.Seed, epoch));
            double lossSum = 0;
            long correct = 0;
            var batch = 0;
            var batches = ImageBatches.Batches(train.Count, options.BatchSize, shuffle).ToList();
            // Photos are decoded only while some still need reading; after that, the head trains on the stored readings.
            using var loaded = trainFronts is { Complete: true }
                ? null
                : BatchLoader.Epoch(train, batches, MicroBatch, options.Augmentation, augment, cancellationToken).GetEnumerator();
            foreach (var indices in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                optimizer.zero_grad();
                double batchLossSum = 0;
                if (loaded is not null)
                {
                    if (!loaded.MoveNext())
                        throw new InvalidOperationException("the batch loader ended before the epoch's batches did");
                    var start = 0;
                    foreach (var chunk in loaded.Current.Chunks)
                    {
                        using var scope = NewDisposeScope();
                        var inputs = ImageBatches.FromBytes(chunk.Pixels, chunk.Count, train.Size, _device, train.Views);
                        if (frozen is not null)
                        {
                            // Only read here: the head trains on the whole batch's readings below, as in every later epoch.
                            trainFronts!.Read(frozen, inputs, indices.AsSpan(start, chunk.Count));
                            start += chunk.Count;
                            continue;
                        }
                        var (loss, right) = Backward(model.forward(inputs), tensor(chunk.Labels, [chunk.Count, 1L], ScalarType.Float32, _device), indices.Length);
                        batchLossSum += loss;
                        correct += right;
                    }
                }
                if (frozen is not null)
                {
                    // One pass of the head per batch, whichever epoch read the photos: a fit resumed
                    // after epoch k reads them in epoch k + 1 and must train it as the straight fit did
                    // (the same dropout draws, the same sums).
                    using var scope = NewDisposeScope();
                    var (loss, right) = Backward(frozen.Head(trainFronts!.Rows(indices)), ImageBatches.Targets(train, indices, _device), indices.Length);
                    batchLossSum += loss;
                    correct += right;
                }
                optimizer.step();
                var batchLoss = batchLossSum / indices.Length;
                lossSum += batchLossSum;
                var progress = new BatchProgress(epoch, ++batch, batchesPerEpoch, batchLoss);
                callbacks.ForEach(c => c.OnBatchEnd(progress, context));
            }

            var held = validation is not { Count: > 0 } ? null
                : validationFronts is null ? Inference.Run(model, validation, _device, MicroBatch, cancellationToken)
                : validationFronts.Infer(model, validation, _device, MicroBatch, cancellationToken);
            var metrics = new EpochMetrics(
                epoch,
                lossSum / train.Count,
                (double)correct / train.Count,
                held?.Loss,
                held?.Accuracy,
                clock.Elapsed.TotalSeconds);
            epochs.Add(metrics);
            callbacks.ForEach(c => c.OnEpochEnd(metrics, context));
            schedule?.step();
            checkpoint?.Write(fingerprint!, new CheckpointState(epoch, [.. epochs], context.StopTraining), writer => CheckpointTensors.Write(writer, model, optimizer, earlyStopping));
            callbacks.ForEach(c => c.OnEpochSaved(metrics, context));
        }

        var history = new TrainingHistory(epochs, StoppedEarly: epochs.Count < options.Epochs, ResumedAfterEpoch: context.ResumedAfterEpoch);
        callbacks.ForEach(c => c.OnTrainEnd(history, context));
        return history with { RestoredEpoch = context.RestoredEpoch };
    }

    /// <summary>
    /// Back-propagates one forward pass's share of a batch: its summed loss divided by the whole
    /// batch's size, so a batch's micro-batches add up to the batch mean's gradient. Returns the summed
    /// loss and how many it got right.
    /// </summary>
    static (double Loss, long Correct) Backward(Tensor logits, Tensor targets, int batchSize)
    {
        var loss = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.Sum);
        using var size = ((double)batchSize).ToScalar();
        loss.div(size).backward();
        return (loss.item<float>(), logits.ge(Scalars.Of(0)).to_type(ScalarType.Float32).eq(targets).sum().item<long>());
    }
}
