using HappySad.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HappySad.Web.Storage;

/// <summary>
/// Runs before the server takes requests: creates the data directory, takes its lock, applies
/// migrations (on SQLite it also turns on the write-ahead log, so readers never wait for an upload),
/// and, when this process owns the directory, reconciles files with rows and cleans up.
/// </summary>
public sealed class StorageInitializer(IServiceProvider services, StoragePaths paths, DataDirectoryLock directoryLock, IOptions<StorageOptions> options, IOptions<Runs.Distributed.WorkerOptions> workers, ILogger<StorageInitializer> logger) : IHostedService
{
    /// <summary>The advisory lock every process migrating one PostgreSQL database takes first (any fixed number would do).</summary>
    const long MigrationLock = 0x4861707079536164; // "HappySad"

    public Task StartAsync(CancellationToken cancellationToken) => OpenAsync(DataDirectoryRole.WebApp, cancellationToken);

    /// <summary>Opens the storage as <paramref name="role"/>.</summary>
    /// <returns>Who owns the data directory when another process does (this one then tidies nothing); null otherwise.</returns>
    /// <exception cref="DataDirectoryInUseException">A web app on SQLite finds the directory owned.</exception>
    public async Task<string?> OpenAsync(DataDirectoryRole role, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Root);
        var storage = options.Value;
        string? owner = null;
        // A worker shares the data directory with a web node that may be taking uploads: it neither owns nor tidies it.
        if (storage.ReconcileAtStart)
        {
            var name = role == DataDirectoryRole.WebApp ? "the web app" : "a command-line process";
            // A web app that trains runs itself recovers, at its start, every run left Running: beside
            // another such app (on SQLite, or on PostgreSQL without workers) it would take that one's
            // live runs for dead and train them again. Web nodes that leave training to workers share
            // one directory by design.
            var trainsItself = workers.Value.Mode == Runs.Distributed.RunDispatchMode.InProcess;
            if (role == DataDirectoryRole.WebApp && (storage.Provider == StorageProvider.Sqlite || trainsItself) && !directoryLock.TryClaimApp(name, out var app))
                throw new DataDirectoryInUseException(paths.Root, app, storage.Provider);
            if (!directoryLock.TryAcquire(name, out owner))
            {
                logger.LogInformation("Data directory {DataDirectory} is owned by {Owner}; this process leaves tidying it to that one", paths.Root, owner);
                if (role == DataDirectoryRole.WebApp)
                    directoryLock.TakeOverWhenFree(name, logger);
            }
        }
        var contexts = services.GetRequiredService<IDbContextFactory<HappySadDbContext>>();
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            if (context.Database.IsNpgsql())
            {
                await MigratePostgresAsync(context, cancellationToken);
                var connection = context.Database.GetDbConnection();
                logger.LogInformation("Data directory {DataDirectory}, PostgreSQL database {Database} on {Server}", paths.Root, connection.Database, connection.DataSource);
            }
            else
            {
                await context.Database.MigrateAsync(cancellationToken);
                await context.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
                logger.LogInformation("Data directory {DataDirectory}, database {Database}", paths.Root, paths.DatabaseFile);
            }
        }
        if (directoryLock.IsHeld)
            await services.GetRequiredService<StorageReconciler>().ReconcileAsync(cancellationToken);
        return owner;
    }

    /// <summary>
    /// A web node and its workers may start together against one database: each waits its turn on an
    /// advisory lock, so one applies the migrations and the others find nothing left to do.
    /// </summary>
    static async Task MigratePostgresAsync(HappySadDbContext context, CancellationToken cancellationToken)
    {
        await CreateDatabaseIfMissingAsync(context, cancellationToken);
        // One session from lock to unlock: an advisory lock belongs to the session that took it.
        await context.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await context.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLock})", cancellationToken);
            try
            {
                await context.Database.MigrateAsync(cancellationToken);
            }
            finally
            {
                // Explicitly: a pooled connection's session outlives its closing.
                await context.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLock})", CancellationToken.None);
            }
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }

    static async Task CreateDatabaseIfMissingAsync(HappySadDbContext context, CancellationToken cancellationToken)
    {
        var creator = context.GetService<IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync(cancellationToken))
            return;
        try
        {
            await creator.CreateAsync(cancellationToken);
        }
        catch (PostgresException)
        {
            // Another node creating it at the same moment wins (duplicate_database, or a unique violation in the catalog).
            if (!await creator.ExistsAsync(cancellationToken))
                throw;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>What opens the storage: the role decides what a process does when it finds the data directory owned.</summary>
public enum DataDirectoryRole
{
    /// <summary>On SQLite it refuses to start; on PostgreSQL it starts beside the owner, without tidying.</summary>
    WebApp,

    /// <summary>Works beside the owner, without tidying: its writes go through the database and under their rows.</summary>
    Command,
}
