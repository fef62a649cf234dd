namespace HappySad.Web.Runs;

/// <summary>What <see cref="RunService.CancelAsync"/> did.</summary>
public enum CancelOutcome
{
    /// <summary>It was queued and will not start.</summary>
    Cancelled,

    /// <summary>It is training here; it stops within one batch and is then recorded as Cancelled.</summary>
    Stopping,

    /// <summary>It had already finished; nothing changed.</summary>
    AlreadyFinished,
}