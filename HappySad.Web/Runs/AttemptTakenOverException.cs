namespace HappySad.Web.Runs;

/// <summary>
/// An attempt found its run taken over: another worker claimed it (this one stopped answering for
/// longer than the queue's invisibility timeout) and closed this attempt. The attempt stops and
/// records nothing more; the run is the other worker's.
/// </summary>
public sealed class AttemptTakenOverException(int runId, int attempt)
    : Exception($"attempt {attempt} of run {runId} was taken over by another worker")
{
    public int RunId { get; } = runId;

    public int Attempt { get; } = attempt;
}
