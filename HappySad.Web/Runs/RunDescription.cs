using HappySad.Web.Data;
using HappySad.Web.DataSets;

namespace HappySad.Web.Runs;

/// <summary>
/// What a person says about a run: its name and notes. The PATCH body, the run page's editor and the
/// command line's <c>train --name</c> all hand this to <see cref="RunService.DescribeAsync"/>. A
/// field left null keeps what the run has; an empty one clears it.
/// </summary>
public sealed record RunDescription(string? Name = null, string? Notes = null)
{
    /// <summary>
    /// The name cleaned of control and direction characters, the notes with their line breaks kept but
    /// made <c>\n</c>; both trimmed. Null still means "keep", empty "clear".
    /// </summary>
    public (string? Name, string? Notes) Cleaned() => (Name is null ? null : DisplayNames.Clean(Name), Notes?.ReplaceLineEndings("\n").Trim());

    /// <summary>Why it cannot be stored, as sentences; empty when it can.</summary>
    public IReadOnlyList<string> Problems()
    {
        var (name, notes) = Cleaned();
        List<string> problems = [];
        if (name?.Length > TrainingRun.NameMaxLength)
            problems.Add($"The name is {name.Length} characters long; at most {TrainingRun.NameMaxLength} are allowed.");
        if (notes?.Length > TrainingRun.NotesMaxLength)
            problems.Add($"The notes are {notes.Length} characters long; at most {TrainingRun.NotesMaxLength} are allowed.");
        return problems;
    }
}

/// <summary>A name or notes too long to store.</summary>
public sealed class RunDescriptionException(IReadOnlyList<string> problems) : ArgumentException(string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
