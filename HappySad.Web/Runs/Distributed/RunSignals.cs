using System.Globalization;
using System.Text.Json;
using HappySad.Web.Api;
using Npgsql;

namespace HappySad.Web.Runs.Distributed;

/// <summary>
/// Messages between the web node and the workers over PostgreSQL's <c>LISTEN</c>/<c>NOTIFY</c>: a
/// run's progress from the worker training it to every web node, and a person's cancel from a web
/// node to every worker. The database both already share carries them, so scaling out needs no
/// message broker. Notifications are not stored: a listener that was disconnected misses them, and
/// the pages catch up from the database (the run's epochs and status) when they reconnect.
/// </summary>
public sealed class RunSignals(NpgsqlDataSource database, ILogger<RunSignals> logger)
{
    public const string EventsChannel = "happysad_run_events";
    public const string CancelsChannel = "happysad_run_cancels";

    /// <summary>PostgreSQL refuses a notification payload of 8,000 bytes or more; ours are a few hundred.</summary>
    const int MaxPayloadBytes = 7_900;

    static JsonSerializerOptions Json => WireJson.Options;

    public Task PublishAsync(RunStatusMessage message, CancellationToken cancellationToken = default) =>
        NotifyAsync(EventsChannel, Envelope("status", message), cancellationToken);

    public Task PublishAsync(PreparationProgressMessage message, CancellationToken cancellationToken = default) =>
        NotifyAsync(EventsChannel, Envelope("preparation", message), cancellationToken);

    public Task PublishAsync(BatchProgressMessage message, CancellationToken cancellationToken = default) =>
        NotifyAsync(EventsChannel, Envelope("batch", message), cancellationToken);

    public Task PublishAsync(EpochCompletedMessage message, CancellationToken cancellationToken = default) =>
        NotifyAsync(EventsChannel, Envelope("epoch", message), cancellationToken);

    public Task CancelAsync(int runId, CancellationToken cancellationToken = default) =>
        NotifyAsync(CancelsChannel, runId.ToString(CultureInfo.InvariantCulture), cancellationToken);

    /// <summary>Hands a run event received on <see cref="EventsChannel"/> to <paramref name="events"/>; false for a payload it cannot read.</summary>
    public static bool Relay(string payload, RunEvents events)
    {
        ArgumentNullException.ThrowIfNull(events);
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var body = root.GetProperty("message");
        switch (root.GetProperty("kind").GetString())
        {
            case "status":
                events.Publish(body.Deserialize<RunStatusMessage>(Json)!);
                return true;
            case "preparation":
                events.Publish(body.Deserialize<PreparationProgressMessage>(Json)!);
                return true;
            case "batch":
                events.Publish(body.Deserialize<BatchProgressMessage>(Json)!);
                return true;
            case "epoch":
                events.Publish(body.Deserialize<EpochCompletedMessage>(Json)!);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Listens on <paramref name="channels"/> until <paramref name="cancellationToken"/> fires, calling
    /// <paramref name="received"/> for each notification; reconnects (after a pause) when the database
    /// goes away. <paramref name="listening"/> is called each time the listener is (again) in place.
    /// </summary>
    public async Task ListenAsync(IReadOnlyList<string> channels, Action<string, string> received, Action? listening, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(received);
        var retry = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, e) =>
                {
                    try
                    {
                        received(e.Channel, e.Payload);
                    }
#pragma warning disable CA1031 // One unreadable notification must not end the listener.
                    catch (Exception error)
#pragma warning restore CA1031
                    {
                        logger.LogWarning(error, "Ignored a notification on {Channel} it could not read", e.Channel);
                    }
                };
                foreach (var channel in channels)
                {
                    await using var command = new NpgsqlCommand($"LISTEN {channel}", connection);
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
                retry = TimeSpan.FromSeconds(1);
                listening?.Invoke();
                while (true)
                    await connection.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (NpgsqlException e)
            {
                logger.LogWarning(e, "Lost the database connection listening for {Channels}; trying again in {Retry}", channels, retry);
                await Task.Delay(retry, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    static string Envelope<T>(string kind, T message) => JsonSerializer.Serialize(new { kind, message }, Json);

    async Task NotifyAsync(string channel, string payload, CancellationToken cancellationToken)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(payload) > MaxPayloadBytes)
        {
            logger.LogWarning("Dropped a {Channel} notification of {Bytes} bytes (PostgreSQL takes under 8,000)", channel, payload.Length);
            return;
        }
        await using var command = database.CreateCommand("SELECT pg_notify(@channel, @payload)");
        command.Parameters.AddWithValue("channel", channel);
        command.Parameters.AddWithValue("payload", payload);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
