using HappySad.Training.Prediction;

namespace HappySad.Web.Predictions;

/// <summary>Prediction limits and caching. Bound from the <c>PredictionOptions</c> configuration section.</summary>
public sealed class PredictionOptions
{
    /// <summary>Models kept loaded (least recently used leaves first). A SeedCnn holds about 15 MB of weights.</summary>
    public int CachedModels { get; set; } = 4;

    /// <summary>Images one predict request may carry.</summary>
    public int MaxFilesPerRequest { get; set; } = 200;

    /// <summary>
    /// How long a model's batch waits for concurrent requests still preparing their photos before
    /// its forward pass runs. A lone request never waits.
    /// </summary>
    public double BatchWindowMilliseconds { get; set; } = 3;

    /// <summary>
    /// The most photos one forward pass labels (and, streaming, the photos one request has in flight).
    /// Eight, as the trainer's micro-batches: a SeedCnn batch of 16 needs 66 MB activation buffers, past a glibc thread heap.
    /// </summary>
    public int MaxBatchSize { get; set; } = 8;

    /// <summary>
    /// Uploaded photos held in memory at once, across all requests (each up to
    /// <c>UploadLimits:MaxImageBytes</c>, plus its decoder's copy): past it, a request waits to read
    /// its next photo, and the photo stays in the connection meanwhile. Decoding takes one photo per
    /// core at a time anyway, so this only bounds what waits for it.
    /// </summary>
    public int MaxImagesInMemory { get; set; } = 32;

    public BatchWindow Batching => new(TimeSpan.FromMilliseconds(Math.Max(0, BatchWindowMilliseconds)), Math.Max(1, MaxBatchSize));
}
