using System.Text.Json.Serialization;

namespace HappySad.Web.DataSets;

/// <summary>Serialised by name: the browser and API clients read "Accepted", not 0.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<UploadStatus>))]
public enum UploadStatus
{
    Accepted,
    Rejected,
    Duplicate,
}

/// <summary>
/// What happened to one uploaded file (or zip entry). <see cref="Reason"/> is meant for people;
/// <see cref="ExistingClass"/> is the class of the photo a duplicate matched.
/// </summary>
public sealed record UploadOutcome(string Name, UploadStatus Status, string? ClassName = null, string? Reason = null, int? PhotoId = null, string? ExistingClass = null)
{
    /// <summary>The same photo is already in the other class: one of the two labels is wrong. Sent only when true.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool LabelConflict => Status == UploadStatus.Duplicate && ClassName is not null && ExistingClass is not null && ClassName != ExistingClass;

    /// <summary>
    /// The file's position among its request's parts, from 0 (a zip's entries share the zip's): a request
    /// refused part way names what it kept by position, since two files of one name can come from two folders.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Index { get; init; }
}

/// <summary>The outcomes of one upload, with counts.</summary>
public sealed record UploadReport(IReadOnlyList<UploadOutcome> Files)
{
    public int Accepted => Files.Count(f => f.Status == UploadStatus.Accepted);
    public int Rejected => Files.Count(f => f.Status == UploadStatus.Rejected);
    public int Duplicates => Files.Count(f => f.Status == UploadStatus.Duplicate);
}
