using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.Extensions.Options;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Tests.Support;

/// <summary>Where a test's app keeps its rows: SQLite in its data directory (the default), or a PostgreSQL database of its own.</summary>
public sealed record TestDatabase(StorageProvider Provider, string? ConnectionString)
{
    public static TestDatabase Sqlite { get; } = new(StorageProvider.Sqlite, null);

    public static TestDatabase Postgres(string connectionString) => new(StorageProvider.Postgres, connectionString);

    /// <summary>The app's settings that choose this database.</summary>
    public IReadOnlyDictionary<string, string> Settings => ConnectionString is null
        ? new Dictionary<string, string>()
        : new Dictionary<string, string>
        {
            [$"{nameof(StorageOptions)}:{nameof(StorageOptions.Provider)}"] = Provider.ToString(),
            [$"{nameof(StorageOptions)}:{nameof(StorageOptions.ConnectionString)}"] = ConnectionString,
        };

    /// <summary>A context on this database as the app opens it, for a test to look behind the app's back.</summary>
    public HappySadDbContext Open(string dataDirectory)
    {
        var storage = Options.Create(new StorageOptions { DataDirectory = dataDirectory, Provider = Provider, ConnectionString = ConnectionString });
        var paths = new StoragePaths(storage);
        var options = HappySadDbContextFactory.Configure(new DbContextOptionsBuilder<HappySadDbContext>(), storage.Value, paths).Options;
        return new HappySadDbContextFactory((DbContextOptions<HappySadDbContext>)options, storage, paths).CreateDbContext();
    }
}
