namespace HappySad.Web.Storage;

/// <summary>Where the app keeps its database and files. Section <c>StorageOptions</c>, or <c>--data-dir</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>Relative paths resolve against the working directory the app was started in.</summary>
    public string DataDirectory { get; set; } = "data";

    public string DatabaseFileName { get; set; } = "happysad.db";
}

/// <summary>Upload limits, section <c>UploadLimits</c>. Each one, when hit, is named in the refusal.</summary>
public sealed class UploadLimits
{
    public long MaxImageBytes { get; set; } = 25L * 1024 * 1024;
    public long MaxZipBytes { get; set; } = 1024L * 1024 * 1024;
    public int MaxZipEntries { get; set; } = 20_000;
    public double MaxMegapixels { get; set; } = 40;

    /// <summary>A whole upload request (many files or one zip) may not exceed this.</summary>
    public long MaxRequestBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>The per-image limits in the decoder's terms.</summary>
    public HappySad.Training.Data.ImageLimits ForImages() => new()
    {
        MaxBytes = MaxImageBytes,
        MaxPixels = (long)(MaxMegapixels * 1_000_000),
    };
}
