namespace HappySad.Web.Storage;

/// <summary>Where the app keeps its database and files. Section <c>StorageOptions</c>, or <c>--data-dir</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>Relative paths resolve against the working directory the app was started in. Files live here whichever database holds the rows.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The SQLite database's file in the data directory (<see cref="StorageProvider.Sqlite"/> only).</summary>
    public string DatabaseFileName { get; set; } = "happysad.db";

    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>The PostgreSQL connection string; <c>ConnectionStrings:HappySad</c> when not set here.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Fills <see cref="ConnectionString"/> from <c>ConnectionStrings:HappySad</c> when this section has none.</summary>
    public StorageOptions WithConnectionStringFrom(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ConnectionString ??= configuration.GetConnectionString("HappySad");
        return this;
    }

    /// <summary>The section as configuration gives it, before the app starts (for choosing services).</summary>
    public static StorageOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return (configuration.GetSection(nameof(StorageOptions)).Get<StorageOptions>() ?? new()).WithConnectionStringFrom(configuration);
    }

    /// <summary>
    /// Whether start-up takes the data directory's lock and, holding it, reconciles files with rows
    /// and cleans up; off for <c>worker</c> processes, which share the directory with a web node.
    /// </summary>
    public bool ReconcileAtStart { get; set; } = true;

    /// <summary>
    /// Days a <c>lost+found/</c> folder is kept before the data directory's owner deletes it at
    /// start-up; 0 keeps them forever. Long enough to notice and rescue a file, short enough that
    /// the folder does not grow without end.
    /// </summary>
    public int LostAndFoundRetentionDays { get; set; } = 30;

    /// <summary>
    /// The most the pixel cache (<c>cache/pixels/</c>, decoded photos that runs train from) may hold,
    /// in GiB; beyond it the least recently used files are deleted as a new one is built. 0 keeps
    /// everything. A 50,000-photo data set costs about 9.2 GiB at 256x256, so the default keeps two.
    /// </summary>
    public double PixelCacheGigabytes { get; set; } = 20;
}

/// <summary>Which database holds the rows.</summary>
public enum StorageProvider
{
    /// <summary>A file in the data directory: nothing to set up.</summary>
    Sqlite,

    /// <summary>A server that several nodes share (each mounting the same data directory).</summary>
    Postgres,
}

/// <summary>Upload limits, section <c>UploadLimits</c>. Each one, when hit, is named in the refusal.</summary>
public sealed class UploadLimits
{
    public long MaxImageBytes { get; set; } = 25L * 1024 * 1024;
    public long MaxZipBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Read from the zip's end record before the archive is opened: its central directory costs memory per entry.</summary>
    public int MaxZipEntries { get; set; } = 20_000;

    /// <summary>
    /// What a zip's entries may add up to once inflated, by the sizes its directory declares, checked
    /// before any is read: photos barely compress, so a zip that inflates to many times its size is a
    /// bomb (each entry is also held to <see cref="MaxImageBytes"/> as it is read).
    /// </summary>
    public long MaxZipExpandedBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Checked from the image header before a pixel is decoded: a decoded pixel costs 4 bytes however small the file.</summary>
    public double MaxMegapixels { get; set; } = 40;

    /// <summary>Multipart parts one request may carry: each costs a header parse and a file, so 50,000 tiny parts would tie up the server.</summary>
    public int MaxPartsPerRequest { get; set; } = 2_000;

    /// <summary>Images decoded at once across the app (uploads, thumbnails, predictions, runs), so concurrent decompression bombs queue instead of multiplying memory.</summary>
    public int MaxConcurrentDecodes { get; set; } = Environment.ProcessorCount;

    /// <summary>A model file imported on the Predict page may not exceed this (the largest built-in network is about 15 MB).</summary>
    public long MaxModelBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>A whole upload request (many files or one zip) may not exceed this.</summary>
    public long MaxRequestBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>The per-image limits in the decoder's terms.</summary>
    public HappySad.Training.Data.ImageLimits ForImages() => new()
    {
        MaxBytes = MaxImageBytes,
        MaxPixels = (long)(MaxMegapixels * 1_000_000),
        Gate = HappySad.Training.Data.DecodeGate.For(MaxConcurrentDecodes),
    };
}
