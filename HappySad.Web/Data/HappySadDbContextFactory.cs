using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Data;

/// <summary>
/// Hands out the context whose migrations match the configured provider: a plain
/// <see cref="HappySadDbContext"/> on SQLite, a <see cref="PostgresDbContext"/> on PostgreSQL. The
/// app's code sees only <see cref="HappySadDbContext"/> either way.
/// </summary>
internal sealed class HappySadDbContextFactory(DbContextOptions<HappySadDbContext> options, IOptions<StorageOptions> storage) : IDbContextFactory<HappySadDbContext>
{
    public HappySadDbContext CreateDbContext() =>
        storage.Value.Provider == StorageProvider.Postgres ? new PostgresDbContext(options) : new HappySadDbContext(options);

    /// <summary>The provider and its connection, as <see cref="StorageOptions"/> say.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, StorageOptions storage, StoragePaths paths) =>
        storage.Provider switch
        {
            StorageProvider.Postgres => builder.UseNpgsql(storage.ConnectionString),
            // SQLite rebuilds a table with foreign keys off, outside a transaction (the RunRecipe
            // migration does): EF warns on every fresh database, though there is nothing to act on.
            _ => builder.UseSqlite($"Data Source={paths.DatabaseFile};Pooling=false")
                .ConfigureWarnings(w => w.Ignore(RelationalEventId.NonTransactionalMigrationOperationWarning)),
        };
}
