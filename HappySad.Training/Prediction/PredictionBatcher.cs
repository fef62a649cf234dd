using System.Diagnostics;
using System.Threading.Channels;
using HappySad.Training.Data;
using HappySad.Training.Native;
using static TorchSharp.torch;

namespace HappySad.Training.Prediction;

/// <summary>How long a batch waits for more images, and the most it takes at once.</summary>
public sealed record BatchWindow(TimeSpan Wait, int MaxBatchSize)
{
    /// <summary>The longest <see cref="Wait"/> a batcher honours: a window is meant in milliseconds, and a setting far past this is a mistake, not a wish.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Dynamic batching for one loaded model: concurrent requests hand their prepared images to one
/// background loop, which gathers them for at most <see cref="BatchWindow.Wait"/> and labels them
/// with one forward pass. libtorch already spreads one pass over every core, so eight requests'
/// passes one after another cost far more than one pass over eight images.
/// </summary>
/// <remarks>
/// The loop only waits while some request has announced itself and is still preparing its image
/// (decoding, finding faces): a lone request is never held back by the window. Face-routing models
/// keep their per-photo logic: each image's route is picked inside the forward pass from its own
/// views, so a batch mixing photos with and without a face gives each the verdict it gets alone.
/// </remarks>
public sealed class PredictionBatcher : IDisposable
{
    readonly ImageClassifier _classifier;
    readonly BatchWindow _window;
    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    readonly Task _loop;

    /// <summary>The batch's input pixels, allocated once at the largest batch and reused.</summary>
    readonly Tensor _pixels;
    readonly float[] _logits;
    readonly int _imageBytes;
    CancellationTokenSource _waiting = new();
    int _preparing;

    /// <summary>Requests inside their preparing step right now (unlike <see cref="_preparing"/>, not counting one that has prepared and is being queued).</summary>
    int _inPrepare;

    public PredictionBatcher(ImageClassifier classifier, BatchWindow window)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(window);
        _classifier = classifier;
        _window = new BatchWindow(TimeSpan.FromTicks(Math.Clamp(window.Wait.Ticks, 0, BatchWindow.MaxWait.Ticks)), Math.Max(1, window.MaxBatchSize));
        var size = classifier.Card.Preprocessing.InputSize;
        var views = classifier.Preparation.Views;
        _imageBytes = views * size * size * 3;
        _pixels = empty([_window.MaxBatchSize, (long)views * size, size, 3], ScalarType.Byte);
        _logits = new float[_window.MaxBatchSize];
        classifier.Module.eval();
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Forward passes run so far, and images labelled by them: tests and logs read how well requests were gathered.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    public long Images => Interlocked.Read(ref _images);

    /// <summary>The most images one forward pass has labelled.</summary>
    public int LargestBatch => Volatile.Read(ref _largest);

    long _batches;
    long _images;
    int _largest;

    /// <summary>
    /// Prepares an image on the caller's thread (announced, so a gathering batch waits for it) and
    /// labels it in the next batch. Exceptions from <paramref name="prepare"/> reach the caller.
    /// </summary>
    public Task<Prediction> PredictAsync(Func<DecodedImage> prepare, double threshold = 0.5)
    {
        ArgumentNullException.ThrowIfNull(prepare);
        Interlocked.Increment(ref _preparing);
        try
        {
            var image = Prepare(prepare);
            if (image.Rgb.Length != _imageBytes)
                throw new ArgumentException($"the image holds {image.Rgb.Length} bytes; this model reads {_imageBytes}", nameof(prepare));
            var pending = new Pending(image, threshold);
            if (!_queue.Writer.TryWrite(pending))
            {
                ObjectDisposedException.ThrowIf(_stopped is null, this);
                throw new InvalidOperationException("this model's batch loop stopped on an error; the model has to be loaded again", _stopped);
            }
            return pending.Verdict.Task;
        }
        finally
        {
            // After the write: the loop sees this request either preparing or queued, never neither.
            Interlocked.Decrement(ref _preparing);
        }
    }

    /// <summary>
    /// Runs a request's preparing step. Requests preparing at once (finding faces) each take one
    /// core rather than all of them splitting every operation over all cores; a lone one keeps them all.
    /// </summary>
    DecodedImage Prepare(Func<DecodedImage> prepare)
    {
        var together = Interlocked.Increment(ref _inPrepare) > 1;
        try
        {
            using (together ? IntraOpThreads.OneOnThisThread() : default)
                return prepare();
        }
        finally
        {
            Interlocked.Decrement(ref _inPrepare);
        }
    }

    /// <summary>Why the loop stopped early, when it did: later requests are refused with it instead of waiting for ever.</summary>
    volatile Exception? _stopped;

    /// <summary>Whether the batch loop stopped on an error: this batcher refuses every image from then on.</summary>
    public bool Stopped => _stopped is not null;

    async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_window.MaxBatchSize);
        try
        {
            await GatherAndLabelAsync(reader, batch).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Label catches what a forward pass throws, so this is a fault of the loop itself. No
            // request may wait on a loop that is gone: fail the ones it holds and refuse the rest.
            _stopped = e;
            _queue.Writer.TryComplete(e);
            foreach (var pending in batch)
                pending.Verdict.TrySetException(e);
            while (reader.TryRead(out var queued))
                queued.Verdict.TrySetException(e);
        }
    }

    async Task GatherAndLabelAsync(ChannelReader<Pending> reader, List<Pending> batch)
    {
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // A monotonic clock: a wall clock set back would stretch the window.
            var deadline = Stopwatch.GetTimestamp() + (long)(_window.Wait.TotalSeconds * Stopwatch.Frequency);
            while (batch.Count < _window.MaxBatchSize)
            {
                while (batch.Count < _window.MaxBatchSize && reader.TryRead(out var pending))
                    batch.Add(pending);
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (batch.Count == _window.MaxBatchSize || Volatile.Read(ref _preparing) == 0 || left <= TimeSpan.Zero)
                    break;
                if (!await WaitForMoreAsync(reader, left).ConfigureAwait(false))
                    break;
            }
            if (batch.Count > 0)
                Label(batch);
            batch.Clear();
        }
    }

    /// <summary>Whether another image arrived within <paramref name="left"/>.</summary>
    async Task<bool> WaitForMoreAsync(ChannelReader<Pending> reader, TimeSpan left)
    {
        if (!_waiting.TryReset())
        {
            _waiting.Dispose();
            _waiting = new CancellationTokenSource();
        }
        _waiting.CancelAfter(left);
        try
        {
            return await reader.WaitToReadAsync(_waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Labels a batch in one forward pass. When that pass fails, each image is labelled alone, so a
    /// failure that only a batch meets (say, memory for its activations) costs no request its verdict,
    /// and an image that fails alone fails only its own request.
    /// </summary>
    void Label(List<Pending> batch)
    {
        if (TryLabel(batch, out var error) || batch.Count == 1)
        {
            if (error is not null)
                batch[0].Verdict.TrySetException(error);
            return;
        }
        foreach (var pending in batch)
        {
            if (!TryLabel([pending], out var alone))
                pending.Verdict.TrySetException(alone!);
        }
    }

    bool TryLabel(List<Pending> batch, out Exception? error)
    {
        error = null;
        try
        {
            var count = batch.Count;
            var staging = _pixels.bytes;
            for (var i = 0; i < count; i++)
                batch[i].Image.Rgb.CopyTo(staging.Slice(i * _imageBytes, _imageBytes));
            using (var scope = NewDisposeScope())
            using (inference_mode())
            using (Volatile.Read(ref _inPrepare) > 0 ? IntraOpThreads.OneOnThisThread() : default)
            {
                // The same conversion as every other path, so a batch sees what a lone image sees.
                var input = ImageBatches.FromPixels(_pixels.narrow(0, 0, count).to(_classifier.Device));
                _classifier.Module.forward(input).flatten().cpu().data<float>().CopyTo(_logits, 0);
            }
            for (var i = 0; i < count; i++)
            {
                if (float.IsFinite(_logits[i]))
                    batch[i].Verdict.TrySetResult(_classifier.Verdict(Evaluation.InferenceResult.Sigmoid(_logits[i]), batch[i].Threshold, batch[i].Image));
                else
                    batch[i].Verdict.TrySetException(new Persistence.ModelFormatException("the model answered no number for this image (NaN or infinity): its weights may be damaged"));
            }
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _images, count);
            if (count > _largest)
                Volatile.Write(ref _largest, count);
            return true;
        }
        catch (Exception e)
        {
            error = e;
            return false;
        }
    }

    /// <summary>Stops taking images, labels those already queued, and frees the staging tensor (not the model, which the caller owns).</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _loop.GetAwaiter().GetResult(); // never faults: RunAsync catches what its loop throws
        _waiting.Dispose();
        _pixels.Dispose();
    }

    sealed record Pending(DecodedImage Image, double Threshold)
    {
        public TaskCompletionSource<Prediction> Verdict { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
