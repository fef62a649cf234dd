namespace HappySad.Web.Runs;

/// <summary>An action that the run's status does not allow (deleting a running run, for one).</summary>
public sealed class RunStateException(string message) : Exception(message);