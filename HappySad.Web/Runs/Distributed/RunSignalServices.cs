using System.Globalization;
using System.Threading.Channels;

namespace HappySad.Web.Runs.Distributed;

/// <summary>
/// On a worker: every progress event of the runs it trains goes out on <see cref="RunSignals.EventsChannel"/>,
/// one after another, so web nodes hear a run's epochs in order; a slow database never holds up the trainer.
/// </summary>
public sealed class RunEventForwarder(RunEvents events, RunSignals signals, ILogger<RunEventForwarder> logger) : BackgroundService, IRunClient
{
    readonly Channel<Func<CancellationToken, Task>> _sends = Channel.CreateUnbounded<Func<CancellationToken, Task>>(new UnboundedChannelOptions { SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = events.SubscribeAll(this);
        await foreach (var send in _sends.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await send(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A lost notification costs a page one live update (it catches up from the database), never the run.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogWarning(e, "Could not send training progress to the web nodes");
            }
        }
    }

    public Task RunStatusChanged(RunStatusMessage message) => Enqueue(ct => signals.PublishAsync(message, ct));

    public Task PreparationProgress(PreparationProgressMessage message) => Enqueue(ct => signals.PublishAsync(message, ct));

    public Task BatchProgress(BatchProgressMessage message) => Enqueue(ct => signals.PublishAsync(message, ct));

    public Task EpochCompleted(EpochCompletedMessage message) => Enqueue(ct => signals.PublishAsync(message, ct));

    /// <summary>Runs are deleted on web nodes, never by a worker: nothing to forward.</summary>
    public Task RunDeleted(RunDeletedMessage message) => Task.CompletedTask;

    Task Enqueue(Func<CancellationToken, Task> send)
    {
        _sends.Writer.TryWrite(send);
        return Task.CompletedTask;
    }
}

/// <summary>On a worker: a person's cancel, sent by any web node, stops the run if this worker is training it.</summary>
public sealed class RunCancelListener(RunSignals signals, RunQueue cancels, ILogger<RunCancelListener> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        signals.ListenAsync([RunSignals.CancelsChannel], (_, payload) =>
        {
            if (int.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var runId) && cancels.TryCancel(runId))
                logger.LogInformation("Stopping run {RunId}: cancelled from the dashboard", runId);
        }, listening: null, stoppingToken);
}

/// <summary>
/// On a web node: the progress of runs trained by workers reaches this process's <see cref="RunEvents"/>,
/// and from there the pages and <c>/hubs/training</c>, as a local run's does.
/// </summary>
public sealed class RunEventListener(RunSignals signals, RunEvents events, ILogger<RunEventListener> logger) : BackgroundService
{
    readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the first <c>LISTEN</c> is in place (tests wait on it).</summary>
    public Task Listening => _listening.Task;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        signals.ListenAsync([RunSignals.EventsChannel], (_, payload) =>
        {
            if (!RunSignals.Relay(payload, events))
                logger.LogWarning("Ignored a run event of an unknown kind");
        }, () => _listening.TrySetResult(), stoppingToken);
}
