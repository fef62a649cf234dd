using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;

namespace HappySad.Web.Runs;

/// <summary>
/// Carries the notifier's events to the hub's groups. Events go through one queue and are sent one
/// after another, so every client hears a run's epochs in the order they happened, and a slow
/// client never holds up the trainer.
/// </summary>
public sealed class RunHubRelay(RunEvents events, IHubContext<RunHub, IRunClient> hub, ILogger<RunHubRelay> logger) : BackgroundService, IRunClient
{
    readonly Channel<Func<Task>> _sends = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = events.SubscribeAll(this);
        await foreach (var send in _sends.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await send();
            }
#pragma warning disable CA1031 // A failed send loses one message to some clients, never the relay.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogWarning(e, "Could not push training progress to SignalR clients");
            }
        }
    }

    public Task RunStatusChanged(RunStatusMessage message) =>
        Enqueue(message.RunId, client => client.RunStatusChanged(message));

    public Task PreparationProgress(PreparationProgressMessage message) =>
        Enqueue(message.RunId, client => client.PreparationProgress(message));

    public Task BatchProgress(BatchProgressMessage message) =>
        Enqueue(message.RunId, client => client.BatchProgress(message));

    public Task EpochCompleted(EpochCompletedMessage message) =>
        Enqueue(message.RunId, client => client.EpochCompleted(message));

    public Task RunDeleted(RunDeletedMessage message) =>
        Enqueue(message.RunId, client => client.RunDeleted(message));

    Task Enqueue(int runId, Func<IRunClient, Task> send)
    {
        _sends.Writer.TryWrite(() => send(hub.Clients.Groups(RunHub.RunGroup(runId), RunHub.AllRunsGroup)));
        return Task.CompletedTask;
    }
}
