using HappySad.Tests.Support;
using HappySad.Web.Extensions;
using HappySad.Web.Runs.Distributed;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace HappySad.Tests.Web.Data;

/// <summary>Each provider's migrations build the whole model, and several nodes can start on one PostgreSQL at once.</summary>
[Collection(PostgresServer.Name)]
public sealed class ProviderMigrationTests(PostgresServer server)
{
    [Fact]
    public Task MigratingAnEmptySqliteDatabaseLeavesNoPendingModelChanges() => AssertMigrationsCoverTheModelAsync(TestDatabase.Sqlite);

    [Fact]
    public Task MigratingAnEmptyPostgresDatabaseLeavesNoPendingModelChanges() => AssertMigrationsCoverTheModelAsync(server.CreateDatabase());

    [Fact]
    public async Task SeveralNodesStartingAtOnceCreateAndMigrateOnePostgresDatabaseOnce()
    {
        var database = server.NameDatabase();
        using var data = new TempDirectory();
        var nodes = Enumerable.Range(0, 4).Select(_ => Node(database, data.Path)).ToList();
        try
        {
            await Task.WhenAll(nodes.Select(node => Task.Run(() => node.GetRequiredService<StorageInitializer>().StartAsync(CancellationToken.None))));
        }
        finally
        {
            foreach (var node in nodes)
                await node.DisposeAsync();
        }

        await using var context = database.Open(data.Path);
        Assert.Equal(context.Database.GetMigrations(), await context.Database.GetAppliedMigrationsAsync());
        Assert.Empty(await context.DataSets.ToListAsync());
    }

    static async Task AssertMigrationsCoverTheModelAsync(TestDatabase database)
    {
        using var data = new TempDirectory();
        await using var context = database.Open(data.Path);
        Assert.Empty(await context.Database.GetAppliedMigrationsAsync());

        await context.Database.MigrateAsync();

        Assert.NotEmpty(await context.Database.GetAppliedMigrationsAsync());
        Assert.Empty(await context.Database.GetPendingMigrationsAsync());
        Assert.False(context.Database.HasPendingModelChanges(), $"The model has changes no {database.Provider} migration makes: add one with dotnet ef migrations add (README, Storage providers).");
    }

    /// <summary>What a web node or a worker has of the storage: the app's own registrations over one configuration.</summary>
    static ServiceProvider Node(TestDatabase database, string dataDirectory)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(database.Settings.Append(new($"{nameof(StorageOptions)}:{nameof(StorageOptions.DataDirectory)}", dataDirectory))!)
            .Build();
        // Several web nodes on one database leave training to workers (one that trains itself refuses a second).
        return new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .Configure<WorkerOptions>(options => options.Mode = RunDispatchMode.Hangfire)
            .AddHappySadStorage()
            .AddSingleton<StorageInitializer>()
            .BuildServiceProvider();
    }
}
