using HappySad.Web.DataSets;

namespace HappySad.Web.Components.Pages.Datasets.Components;

/// <summary>
/// What the upload panel keeps of an upload: counts for the files that need nothing more, and the
/// outcomes that need a look (rejected files, label conflicts). Only these cross the circuit, so a
/// folder of 50,000 good photos costs two numbers per batch, not 50,000 outcomes.
/// </summary>
public sealed record UploadSummary(int Added, int AlreadyHere, IReadOnlyList<UploadOutcome> Problems)
{
    public int Rejected => Problems.Count(p => p.Status == UploadStatus.Rejected);
    public int LabelConflicts => Problems.Count(p => p.LabelConflict);

    /// <summary>Sorts whole outcomes as the panel's browser module does batch by batch.</summary>
    public static UploadSummary Of(IEnumerable<UploadOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var all = outcomes.ToList();
        return new(all.Count(o => o.Status == UploadStatus.Accepted), all.Count(IsAlreadyHere), [.. all.Where(o => o.Status != UploadStatus.Accepted && !IsAlreadyHere(o))]);
    }

    static bool IsAlreadyHere(UploadOutcome outcome) => outcome.Status == UploadStatus.Duplicate && !outcome.LabelConflict;
}
