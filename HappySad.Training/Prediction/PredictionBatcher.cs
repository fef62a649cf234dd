using System.Threading.Channels;
using HappySad.Training.Data;
using HappySad.Training.Native;
using static TorchSharp.torch;

namespace HappySad.Training.Prediction;

/// <summary>How long a batch waits for more images, and the most it takes at once.</summary>
public sealed record BatchWindow(TimeSpan Wait, int MaxBatchSize);

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
        _window = window with { MaxBatchSize = Math.Max(1, window.MaxBatchSize) };
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
            ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
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

    async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_window.MaxBatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var deadline = DateTime.UtcNow + _window.Wait;
            while (batch.Count < _window.MaxBatchSize)
            {
                while (batch.Count < _window.MaxBatchSize && reader.TryRead(out var pending))
                    batch.Add(pending);
                var left = deadline - DateTime.UtcNow;
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

    void Label(List<Pending> batch)
    {
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
                batch[i].Verdict.TrySetResult(_classifier.Verdict(Evaluation.InferenceResult.Sigmoid(_logits[i]), batch[i].Threshold, batch[i].Image));
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _images, count);
            if (count > _largest)
                Volatile.Write(ref _largest, count);
        }
        catch (Exception e)
        {
            foreach (var pending in batch)
                pending.Verdict.TrySetException(e);
        }
    }

    /// <summary>Stops taking images, labels those already queued, and frees the staging tensor (not the model, which the caller owns).</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _loop.GetAwaiter().GetResult();
        _waiting.Dispose();
        _pixels.Dispose();
    }

    sealed record Pending(DecodedImage Image, double Threshold)
    {
        public TaskCompletionSource<Prediction> Verdict { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
