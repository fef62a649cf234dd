namespace HappySad.Web.Runs;

/// <summary>An action that the run's status does not allow (deleting a running run, for one).</summary>
public sealed class RunStateException(string message) : Exception(message);

/// <summary>A user asked for more queued runs than <see cref="TrainingOptions.MaxQueuedRunsPerUser"/> allows.</summary>
public sealed class RunQuotaException(string message) : Exception(message);