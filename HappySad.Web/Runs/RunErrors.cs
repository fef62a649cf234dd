using System.Text.RegularExpressions;
using HappySad.Training.Data;
using HappySad.Training.Persistence;
using HappySad.Training.Training;

namespace HappySad.Web.Runs;

/// <summary>How the end of a run that made no model reads on the run page: failures in one line, and the notes of cancelled and interrupted runs.</summary>
public static partial class RunErrors
{
    /// <summary>
    /// A failure as one line for people: our own exceptions already read well; others keep their type.
    /// Every signed-in user reads it, so a path on the server is cut to its file name (the log, for
    /// those who run the server, has the whole exception).
    /// </summary>
    public static string Describe(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var line = e switch
        {
            DataSetException or ImageRejectedException or ArgumentException or ModelFormatException or TrainingDivergedException => Capitalise(e.Message),
            InvalidOperationException when e.Message.Contains("CUDA", StringComparison.Ordinal) => Capitalise(e.Message),
            _ => $"{e.GetType().Name}: {e.Message}",
        };
        return ServerPath().Replace(line, "…/$1");
    }

    /// <summary>An absolute path of two segments or more (Unix, or Windows with a drive); its last segment is kept.</summary>
    [GeneratedRegex(@"(?<![\w.~])(?:/|[A-Za-z]:\\)(?:[^\s/\\'""`:]+[/\\])+([^\s/\\'""`:]+)")]
    private static partial Regex ServerPath();

    /// <summary>A person cancelled the run; <paramref name="where"/> is <see cref="EpochRecorder.Where"/>.</summary>
    public static string Cancelled(string where) => $"Cancelled {where}.";

    /// <summary>
    /// The process stopped while the run trained; <paramref name="where"/> is <see cref="EpochRecorder.Where"/>.
    /// A dashboard run <paramref name="resumes"/> from its last finished epoch at the next start.
    /// </summary>
    public static string Interrupted(string where, bool resumes) => resumes
        ? $"The app stopped {where}; the run goes on from its last finished epoch when the app starts again."
        : $"The app stopped {where}; the epochs before that are kept. Launch a new run to train again.";

    static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
