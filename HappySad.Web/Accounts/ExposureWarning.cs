using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace HappySad.Web.Accounts;

/// <summary>
/// Warns at start-up when the app listens beyond loopback over plain HTTP: passwords and cookies
/// would cross the network in clear. Behind a TLS proxy the warning is expected and the README says
/// how to set the proxy up.
/// </summary>
public sealed class ExposureWarning(IServer server, IHostApplicationLifetime lifetime, ILogger<ExposureWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var exposed = (server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []).Where(IsPlainHttpBeyondLoopback).ToList();
            if (exposed.Count > 0)
                logger.LogWarning("Listening beyond loopback without HTTPS on {Addresses}: passwords and session cookies cross the network in clear. Serve it behind a TLS proxy (see README, Accounts and access).",
                    string.Join(", ", exposed));
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal static bool IsPlainHttpBeyondLoopback(string address)
    {
        if (!address.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            return false;
        var host = address["http://".Length..].Split('/')[0];
        host = host.StartsWith('[') ? host[1..host.IndexOf(']', StringComparison.Ordinal)] : host.Split(':')[0];
        if (host == "localhost")
            return false;
        return !IPAddress.TryParse(host, out var ip) || !IPAddress.IsLoopback(ip);
    }
}
