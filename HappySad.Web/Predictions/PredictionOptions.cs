namespace HappySad.Web.Predictions;

/// <summary>Prediction limits and caching. Bound from the <c>PredictionOptions</c> configuration section.</summary>
public sealed class PredictionOptions
{
    /// <summary>Models kept loaded (least recently used leaves first). A SeedCnn holds about 15 MB of weights.</summary>
    public int CachedModels { get; set; } = 4;

    /// <summary>Images one predict request may carry.</summary>
    public int MaxFilesPerRequest { get; set; } = 200;
}
