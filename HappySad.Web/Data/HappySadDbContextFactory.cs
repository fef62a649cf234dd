using HappySad.Web.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Data;

/// <summary>
/// Hands out the context whose migrations match the configured provider: a plain
/// <see cref="HappySadDbContext"/> on SQLite, a <see cref="PostgresDbContext"/> on PostgreSQL. The
/// app's code sees only <see cref="HappySadDbContext"/> either way.
/// </summary>
/// <remarks>
/// SQLite connections are pooled: opening one reads and parses the whole schema, and every API
/// request's sign-in makes a query. The container disposes this factory with
/// the host, which closes the pooled connections to its database, so a stopped host (a test, a
/// command beside the app) keeps no file open.
/// </remarks>
internal sealed class HappySadDbContextFactory(DbContextOptions<HappySadDbContext> options, IOptions<StorageOptions> storage, StoragePaths paths)
    : IDbContextFactory<HappySadDbContext>, IDisposable
{
    public HappySadDbContext CreateDbContext() =>
        storage.Value.Provider == StorageProvider.Postgres ? new PostgresDbContext(options) : new HappySadDbContext(options);

    public void Dispose()
    {
        if (storage.Value.Provider == StorageProvider.Sqlite)
        {
            using var connection = new SqliteConnection(SqliteConnectionString(paths));
            SqliteConnection.ClearPool(connection);
        }
    }

    static string SqliteConnectionString(StoragePaths paths) => $"Data Source={paths.DatabaseFile}";

    /// <summary>The provider and its connection, as <see cref="StorageOptions"/> say.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, StorageOptions storage, StoragePaths paths) =>
        storage.Provider switch
        {
            StorageProvider.Postgres => builder.UseNpgsql(storage.ConnectionString),
            // SQLite rebuilds a table with foreign keys off, outside a transaction (the RunRecipe
            // migration does): EF warns on every fresh database, though there is nothing to act on.
            _ => builder.UseSqlite(SqliteConnectionString(paths), sqlite => sqlite.ExecutionStrategy(d => new SqliteOpenRetry(d)))
                .AddInterceptors(SqliteOpenRetry.OpenFailures)
                // EF logs a retry as information; the app shows EF's warnings only, and a retry is worth seeing.
                .ConfigureWarnings(w => w.Log((CoreEventId.ExecutionStrategyRetrying, LogLevel.Warning)))
                .ConfigureWarnings(w => w.Ignore(RelationalEventId.NonTransactionalMigrationOperationWarning)),
        };
}
