using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
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
            _ => builder.UseSqlite($"Data Source={paths.DatabaseFile};Pooling=false"),
        };
}
