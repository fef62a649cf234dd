namespace HappySad.Web.Runs;

/// <summary>Adapts delegates to <see cref="IRunClient"/>, for components that want a hook or two.</summary>
public sealed class RunObserver(
    Func<RunStatusMessage, Task>? onStatus = null,
    Func<BatchProgressMessage, Task>? onBatch = null,
    Func<EpochCompletedMessage, Task>? onEpoch = null,
    Func<PreparationProgressMessage, Task>? onPreparation = null,
    Func<RunDeletedMessage, Task>? onDeleted = null) : IRunClient
{
    public Task PreparationProgress(PreparationProgressMessage message) => onPreparation?.Invoke(message) ?? Task.CompletedTask;
    public Task RunStatusChanged(RunStatusMessage message) => onStatus?.Invoke(message) ?? Task.CompletedTask;
    public Task BatchProgress(BatchProgressMessage message) => onBatch?.Invoke(message) ?? Task.CompletedTask;
    public Task EpochCompleted(EpochCompletedMessage message) => onEpoch?.Invoke(message) ?? Task.CompletedTask;
    public Task RunDeleted(RunDeletedMessage message) => onDeleted?.Invoke(message) ?? Task.CompletedTask;
}