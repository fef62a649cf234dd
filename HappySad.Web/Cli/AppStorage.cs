using HappySad.Web.Extensions;
using HappySad.Web.Services;

namespace HappySad.Web.Cli;

/// <summary>
/// The app's storage (database, data directory, services) without the web server, for commands
/// that share a data directory with a running dashboard. Opening applies migrations and reconciles
/// files with rows exactly as the app does at start-up.
/// </summary>
internal sealed class AppStorage : IAsyncDisposable
{
    readonly ServiceProvider _services;

    AppStorage(ServiceProvider services) => _services = services;

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public static async Task<AppStorage> OpenAsync(string? dataDirectory, CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(dataDirectory is null ? [] : [new(WebExtensions.SwitchMappings["--data-dir"], dataDirectory)])
            .Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning))
            .AddHappySadStorage()
            .AddHappySadRuns()
            .AddSingleton<StorageInitializer>()
            .BuildServiceProvider();
        await services.GetRequiredService<StorageInitializer>().StartAsync(cancellationToken).ConfigureAwait(false);
        return new AppStorage(services);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
