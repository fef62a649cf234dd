using HappySad.Web.Data;

namespace HappySad.Web.Runs;

/// <summary>A run ended without a model; the message gives its status and the reason it recorded.</summary>
public sealed class RunFailedException(int id, RunStatus status, string? reason)
    : Exception($"run {id} {status.ToString().ToLowerInvariant()}: {reason}")
{
    public int Id { get; } = id;
    public RunStatus Status { get; } = status;
}