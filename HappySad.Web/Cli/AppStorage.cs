using HappySad.Web.Extensions;
using HappySad.Web.Storage;
using Microsoft.Extensions.Logging.Console;

namespace HappySad.Web.Cli;

/// <summary>
/// The app's storage (database, data directory, services) without the web server, for commands
/// that share a data directory with a running dashboard. It is built on the web app's own host
/// builder and registrations, so it reads the same configuration (<c>appsettings.json</c>,
/// <c>appsettings.{Environment}.json</c>, environment variables, <c>--data-dir</c>) and finds the
/// same data directory. Opening applies migrations; when no app owns the data directory it takes
/// the directory's lock for as long as it is open and reconciles files with rows exactly as the
/// app does at start-up, and when one does it works beside it without tidying anything.
/// </summary>
internal sealed class AppStorage : IAsyncDisposable
{
    readonly WebApplication _host;

    AppStorage(WebApplication host, string? owner)
    {
        _host = host;
        Owner = owner;
    }

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    /// <summary>The running app (or other process) that owns the data directory; null when this command does.</summary>
    public string? Owner { get; }

    public static Task<AppStorage> OpenAsync(string? dataDirectory, CancellationToken cancellationToken) =>
        OpenAsync(dataDirectory, host: null, cancellationToken);

    /// <param name="host">
    /// Where the host looks for its settings (content root, environment); null for what the web app
    /// itself uses: the working directory and <c>ASPNETCORE_ENVIRONMENT</c>.
    /// </param>
    /// <param name="settings">More configuration, as command-line switches, over every other source (<see cref="Commands.ThisExecutable.OwnStorage"/>).</param>
    public static async Task<AppStorage> OpenAsync(string? dataDirectory, WebApplicationOptions? host, CancellationToken cancellationToken, IReadOnlyList<string>? settings = null)
    {
        // The command line's own arguments are not configuration: only --data-dir is, through the
        // same switch the web app maps.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = host?.ApplicationName ?? typeof(AppStorage).Assembly.GetName().Name,
            EnvironmentName = host?.EnvironmentName,
            ContentRootPath = host?.ContentRootPath,
        });
        // Standard output carries the command's result (often JSON): log warnings and errors only, to standard error.
        builder.Logging.ClearProviders();
        // One line a message, never a stack trace (HAPPYSAD_DEBUG=1 shows them): the command prints what failed itself.
        builder.Logging.AddConsole(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            o.FormatterName = CommandLogFormatter.Name;
        }).AddConsoleFormatter<CommandLogFormatter, Microsoft.Extensions.Logging.Console.ConsoleFormatterOptions>();
        builder.Logging.AddFilter<ConsoleLoggerProvider>(level => level >= LogLevel.Warning);
        builder.AddHappySadCore([.. dataDirectory is null ? [] : new[] { "--data-dir", dataDirectory }, .. settings ?? []]);

        var app = builder.Build();
        try
        {
            var owner = await app.Services.GetRequiredService<StorageInitializer>().OpenAsync(DataDirectoryRole.Command, cancellationToken);
            return new AppStorage(app, owner);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
