namespace HappySad.Web.Data;

public enum PhotoStatus
{
    Ok,

    /// <summary>The stored file no longer decodes (found by a scan); kept, but never trained on.</summary>
    Rejected,
}

/// <summary>
/// One stored photo. Its file lives at <c>datasets/{DataSetId}/{ClassName}/{StoredName}</c>, or under
/// <c>.trash/{ClassName}/</c> while <see cref="TrashedAt"/> is set.
/// </summary>
public sealed class Photo
{
    public int Id { get; set; }
    public int DataSetId { get; set; }
    public DataSet? DataSet { get; set; }
    public required string ClassName { get; set; }

    /// <summary>Content hash plus the extension of the detected format; never a name a user chose.</summary>
    public required string StoredName { get; set; }

    /// <summary>The uploaded file's name, sanitised, for display only.</summary>
    public required string OriginalName { get; set; }

    public required string Sha256 { get; set; }

    /// <summary>64-bit difference hash, for near-duplicate detection.</summary>
    public long PerceptualHash { get; set; }

    public int Width { get; set; }
    public int Height { get; set; }
    public required string Format { get; set; }
    public long ByteSize { get; set; }
    public PhotoStatus Status { get; set; }
    public string? RejectionReason { get; set; }
    public DateTimeOffset AddedAt { get; set; }
    public DateTimeOffset? TrashedAt { get; set; }
}
