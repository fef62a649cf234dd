using System.Collections.Concurrent;
using HappySad.Web.Accounts;
using Microsoft.AspNetCore.SignalR;

namespace HappySad.Web.Runs;

/// <summary>
/// Closes the training hub's connections whose user may no longer see runs. A SignalR connection
/// keeps the user it connected with: without this, a user locked, demoted, deleted, or whose token
/// was revoked, went on hearing every run they were watching until they disconnected. Every
/// <see cref="SignedInUsers.RecheckEvery"/> each open connection's user is checked again (also
/// after changes made by the <c>users</c> command in another process) and a failed check aborts it.
/// </summary>
public sealed class HubRevalidation(SignedInUsers users, TimeProvider clock, ILogger<HubRevalidation> logger) : BackgroundService
{
    readonly ConcurrentDictionary<string, HubCallerContext> _connections = new();

    public void Connected(HubCallerContext connection) => _connections[connection.ConnectionId] = connection;

    public void Disconnected(HubCallerContext connection) => _connections.TryRemove(connection.ConnectionId, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SignedInUsers.RecheckEvery, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var connection in _connections.Values)
            {
                try
                {
                    if (connection.User is { } user && await users.StillValidAsync(user, stoppingToken))
                        continue;
                }
                catch (Exception failure) when (failure is not OperationCanceledException)
                {
                    // A check that could not be made (the database busy or gone) keeps the connection until the next one.
                    logger.LogWarning(failure, "Could not check the user of hub connection {ConnectionId}", connection.ConnectionId);
                    continue;
                }
                logger.LogInformation("Hub connection {ConnectionId} closed: its user may no longer see runs", connection.ConnectionId);
                Disconnected(connection);
                connection.Abort();
            }
        }
    }
}
