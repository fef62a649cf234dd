using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace HappySad.Web.Accounts;

/// <summary>
/// The first admin, created through a one-time link (as Jupyter prints its token): with no users at
/// start-up, a random token is made, its hash kept in memory only, and the link printed to the
/// console and the log. The setup page creates the admin with it once; after that, or after a
/// restart, the link is dead.
/// </summary>
public sealed class FirstAdminSetup(UserAdministration users, IServer server, IHostApplicationLifetime lifetime, ILogger<FirstAdminSetup> logger) : IHostedService, IDisposable
{
    public const string Path = "/setup";

    readonly SemaphoreSlim _once = new(1, 1);
    byte[]? _tokenHash;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await users.AnyUsersAsync(cancellationToken))
            return;
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        _tokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        // The address is known once the server listens (port 0 picks one then).
        lifetime.ApplicationStarted.Register(() =>
            logger.LogWarning("No users yet. Set up the first admin: {SetupLink}", $"{BrowsableAddress(server)}{Path}?token={token}"));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _once.Dispose();

    /// <summary>Whether the link with this token still creates the first admin.</summary>
    public bool IsValid(string? token)
    {
        var expected = Volatile.Read(ref _tokenHash);
        return expected is not null && token is not null
            && CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <summary>Creates the first admin and kills the link; one at a time, so two clicks make one admin.</summary>
    public async Task<UserSummary> CreateAdminAsync(string token, string name, string password)
    {
        await _once.WaitAsync();
        try
        {
            if (!IsValid(token) || await users.AnyUsersAsync())
                throw new AccountException("This setup link is no longer valid.");
            var admin = await users.CreateAsync(name, AppRoles.Admin, password);
            Volatile.Write(ref _tokenHash, null);
            return admin;
        }
        finally
        {
            _once.Release();
        }
    }

    /// <summary>An address a browser on this machine can open: a wildcard host becomes 127.0.0.1.</summary>
    static string BrowsableAddress(IServer server)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault() ?? "http://localhost:5000";
        var uri = new UriBuilder(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
            uri.Host = "127.0.0.1";
        return uri.Uri.GetLeftPart(UriPartial.Authority);
    }
}
