using System.Diagnostics;
using HappySad.Training.Data;
using HappySad.Training.Faces;
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

    /// <summary>The face the model looked at (fractions of the photo's width and height), for face-cropping models that found one.</summary>
    public FaceBox? Face { get; init; }

    /// <summary>What the model looked at: one of <see cref="ImageRegion"/>'s names.</summary>
    public string? Region { get; init; }

    /// <summary>The verdict is too close to call (<see cref="Prediction.LowConfidence"/>).</summary>
    public bool LowConfidence { get; init; }

    /// <summary>The photo's size in pixels, for drawing <see cref="Face"/> over it.</summary>
    public int? Width { get; init; }

    public int? Height { get; init; }
}

/// <summary>Decodes uploaded photos with the upload limits and labels them with a cached model.</summary>
public sealed class PredictionService(ModelCatalog catalog, ModelCache cache, IOptions<UploadLimits> limits)
{
    /// <summary>Labels one image. A bad image gets a verdict with its reason, never an exception.</summary>
    public async Task<ImageVerdict> PredictAsync(ModelInfo model, string name, Stream content, double threshold = 0.5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(content);
        var clock = Stopwatch.StartNew();
        byte[] bytes;
        try
        {
            bytes = await ReadLimitedAsync(content, limits.Value.MaxImageBytes, cancellationToken);
        }
        catch (ImageRejectedException e)
        {
            return Refused(name, e, clock);
        }
        var file = catalog.FileOf(model);
        return await Task.Run(async () =>
        {
            try
            {
                // Decoding (and face detection) runs outside the model's lock, so other requests'
                // preparation overlaps this one's forward pass.
                var preparation = cache.Use(file, classifier => classifier.Preparation);
                // The detector's weights may still have to be downloaded: awaited here, so the
                // detector finds them on disk and no thread waits on the network.
                if (preparation.DetectsFaces)
                    await FaceApiPackage.EnsureAsync(cancellationToken: cancellationToken);
                var image = preparation.Prepare(bytes, limits.Value.ForImages());
                var prediction = cache.Use(file, classifier => classifier.Predict(image, threshold));
                return new ImageVerdict(name, prediction.Label, prediction.Probability, prediction.ClassProbabilities, clock.Elapsed.TotalMilliseconds, null, null)
                {
                    Face = prediction.Face,
                    Region = prediction.Region,
                    LowConfidence = prediction.LowConfidence,
                    Width = image.SourceWidth,
                    Height = image.SourceHeight,
                };
            }
            catch (ImageRejectedException e)
            {
                return Refused(name, e, clock);
            }
            catch (PretrainedUnavailableException e)
            {
                return new ImageVerdict(name, null, null, null, clock.Elapsed.TotalMilliseconds, e.Message, null);
            }
        }, cancellationToken);
    }

    static ImageVerdict Refused(string name, ImageRejectedException e, Stopwatch clock) =>
        new(name, null, null, null, clock.Elapsed.TotalMilliseconds, e.Message, e.Kind);

    /// <summary>Reads at most <paramref name="max"/> bytes: a bigger upload is refused without being held in memory.</summary>
    static async Task<byte[]> ReadLimitedAsync(Stream content, long max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
                throw new ImageRejectedException(RejectionKind.TooManyBytes, $"file is over the {ImageDecoder.FormatBytes(max)} limit");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
