using HappySad.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Storage;

/// <summary>
/// Runs before the server takes requests: creates the data directory, applies migrations, turns on
/// SQLite's write-ahead log (readers never wait for an upload), and reconciles files with rows.
/// </summary>
public sealed class StorageInitializer(IServiceProvider services, StoragePaths paths, ILogger<StorageInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Root);
        var contexts = services.GetRequiredService<IDbContextFactory<HappySadDbContext>>();
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using (context)
        {
            await context.Database.MigrateAsync(cancellationToken);
            await context.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
        logger.LogInformation("Data directory {DataDirectory}, database {Database}", paths.Root, paths.DatabaseFile);
        await services.GetRequiredService<StorageReconciler>().ReconcileAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
