namespace HappySad.Web.Runs;

/// <summary>
/// The one notifier for training progress in this process. Subscribers hear about one run or all
/// runs until they dispose their subscription. Publishing never waits for a subscriber and never
/// lets one subscriber's failure reach the trainer or the others.
/// </summary>
public sealed class RunEvents(ILogger<RunEvents> logger)
{
    /// <summary>The run id that means "every run".</summary>
    const int AllRuns = 0;

    readonly Lock _gate = new();
    readonly List<(int RunId, IRunClient Client)> _subscribers = [];

    public IDisposable Subscribe(int runId, IRunClient client)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runId);
        return Add(runId, client);
    }

    public IDisposable SubscribeAll(IRunClient client) => Add(AllRuns, client);

    public void Publish(RunStatusMessage message) => Notify(message.RunId, client => client.RunStatusChanged(message));

    public void Publish(PreparationProgressMessage message) => Notify(message.RunId, client => client.PreparationProgress(message));

    public void Publish(BatchProgressMessage message) => Notify(message.RunId, client => client.BatchProgress(message));

    public void Publish(EpochCompletedMessage message) => Notify(message.RunId, client => client.EpochCompleted(message));

    public void Publish(RunDeletedMessage message) => Notify(message.RunId, client => client.RunDeleted(message));

    Subscription Add(int runId, IRunClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var entry = (runId, client);
        lock (_gate)
            _subscribers.Add(entry);
        return new Subscription(() =>
        {
            lock (_gate)
                _subscribers.Remove(entry);
        });
    }

    void Notify(int runId, Func<IRunClient, Task> send)
    {
        List<IRunClient> targets;
        lock (_gate)
            targets = [.. _subscribers.Where(s => s.RunId == runId || s.RunId == AllRuns).Select(s => s.Client)];
        foreach (var target in targets)
        {
            try
            {
                var sent = send(target);
                if (!sent.IsCompletedSuccessfully)
                    _ = sent.ContinueWith(t => logger.LogWarning(t.Exception, "A training progress subscriber failed"), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
#pragma warning disable CA1031 // One broken subscriber must not stop a run or the other subscribers.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogWarning(e, "A training progress subscriber failed");
            }
        }
    }

    sealed class Subscription(Action dispose) : IDisposable
    {
        Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}