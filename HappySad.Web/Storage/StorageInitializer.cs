using HappySad.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace HappySad.Web.Storage;

/// <summary>
/// Runs before the server takes requests: creates the data directory, applies migrations (on
/// SQLite it also turns on the write-ahead log, so readers never wait for an upload), and
/// reconciles files with rows.
/// </summary>
public sealed class StorageInitializer(IServiceProvider services, StoragePaths paths, ILogger<StorageInitializer> logger) : IHostedService
{
    /// <summary>The advisory lock every process migrating one PostgreSQL database takes first (any fixed number would do).</summary>
    const long MigrationLock = 0x4861707079536164; // "HappySad"

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Root);
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
        // A worker shares the data directory with a web node that may be taking uploads: only the web node tidies it.
        if (services.GetRequiredService<Microsoft.Extensions.Options.IOptions<StorageOptions>>().Value.ReconcileAtStart)
            await services.GetRequiredService<StorageReconciler>().ReconcileAsync(cancellationToken);
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
