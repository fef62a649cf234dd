namespace HappySad.Web.Runs;

/// <summary>
/// What a watcher of training runs hears: the methods of the SignalR hub's clients and of in-process
/// subscribers alike.
/// </summary>
public interface IRunClient
{
    Task RunStatusChanged(RunStatusMessage message);
    Task PreparationProgress(PreparationProgressMessage message);
    Task BatchProgress(BatchProgressMessage message);
    Task EpochCompleted(EpochCompletedMessage message);
    Task RunDeleted(RunDeletedMessage message);
}