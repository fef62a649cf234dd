using System.CommandLine;
using System.Net.Sockets;
using HappySad.Training.Native;
using HappySad.Web.Extensions;
using HappySad.Web.Runs.Distributed;
using HappySad.Web.Storage;
using Microsoft.Extensions.Logging.Console;
using Npgsql;

namespace HappySad.Web.Cli.Commands;

/// <summary>
/// <c>worker [--name NAME] [--data-dir DIR] [--postgres CONNECTION]</c>: trains runs that web nodes
/// queue, on this machine, until stopped. See the README's "Scale out".
/// </summary>
internal static class WorkerCommand
{
    public static Command Create(CliContext cli)
    {
        var name = new Option<string?>("--name") { Description = "How this worker is named on the runs it trains (default: machine name and process id).", HelpName = "NAME" };
        var dataDirectory = CliOptions.DataDirectory("The shared data directory every node mounts (default: the app's, ./data).");
        var postgres = new Option<string?>("--postgres")
        {
            Description = "The PostgreSQL connection string (default: ConnectionStrings:HappySad or StorageOptions:ConnectionString from configuration or the environment, e.g. ConnectionStrings__HappySad).",
            HelpName = "CONNECTION",
        };
        var command = new Command("worker", "Train the runs web nodes queue (PostgreSQL and Hangfire), one at a time, until stopped with Ctrl+C.") { name, dataDirectory, postgres };
        command.SetAction((parse, _) => RunAsync(cli, parse.GetValue(name), parse.GetValue(dataDirectory), parse.GetValue(postgres)));
        return command;
    }

    static async Task<int> RunAsync(CliContext cli, string? name, string? dataDirectory, string? postgres)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Workers:Mode"] = nameof(RunDispatchMode.Hangfire),
            [$"{nameof(StorageOptions)}:{nameof(StorageOptions.Provider)}"] = nameof(StorageProvider.Postgres),
            [$"{nameof(StorageOptions)}:{nameof(StorageOptions.ReconcileAtStart)}"] = "false",
        };
        if (name is not null)
            settings["Workers:Name"] = name;
        if (dataDirectory is not null)
            settings[$"{nameof(StorageOptions)}:{nameof(StorageOptions.DataDirectory)}"] = dataDirectory;
        // Over every other source, StorageOptions:ConnectionString included: the command line says which database.
        if (postgres is not null)
            settings[$"{nameof(StorageOptions)}:{nameof(StorageOptions.ConnectionString)}"] = postgres;

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = typeof(WorkerCommand).Assembly.GetName().Name,
            EnvironmentName = cli.Host?.EnvironmentName,
            ContentRootPath = cli.Host?.ContentRootPath,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        var connectionString = StorageOptions.From(builder.Configuration).ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new UsageException("worker needs the PostgreSQL database the web nodes share: pass --postgres CONNECTION or set ConnectionStrings:HappySad (e.g. the environment variable ConnectionStrings__HappySad)");
        // The setting to correct is the one the connection string came from.
        var setting = postgres is not null ? "--postgres"
            : string.IsNullOrWhiteSpace(builder.Configuration[$"{nameof(StorageOptions)}:{nameof(StorageOptions.ConnectionString)}"])
                ? "ConnectionStrings:HappySad (or the environment variable ConnectionStrings__HappySad)"
                : "StorageOptions:ConnectionString (or the environment variable StorageOptions__ConnectionString)";
        await EnsureReachableAsync(connectionString, setting, cli.CancellationToken);

        // One line a message on standard error, never a stack trace (HAPPYSAD_DEBUG=1 shows them), as every command logs.
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            o.FormatterName = CommandLogFormatter.Name;
        }).AddConsoleFormatter<CommandLogFormatter, ConsoleFormatterOptions>();
        // Before anything can touch TorchSharp: it does not retry a failed native load.
        TorchRuntime.EnsureInitialized();
        builder.AddHappySadCore([]);
        var options = builder.Configuration.GetSection("Workers").Get<WorkerOptions>() ?? new WorkerOptions();
        builder.Services.AddHappySadWorker(options);

        using var host = builder.Build();
        var paths = host.Services.GetRequiredService<StoragePaths>();
        await cli.Error.WriteLineAsync($"Worker {options.WorkerName} trains queued runs; data directory {paths.Root}. Ctrl+C stops it (its run goes back to the queue).");
        await host.RunAsync(cli.CancellationToken);
        return 0;
    }

    /// <summary>
    /// Connects once before the host starts, so that a database the worker cannot reach is one line
    /// naming it (never its password) and the setting to correct, instead of a start-up that retries
    /// for half a minute and ends in a stack trace.
    /// </summary>
    static async Task EnsureReachableAsync(string connectionString, string setting, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder target;
        try
        {
            target = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        }
        catch (ArgumentException)
        {
            // The parser's reason can quote a piece of the string, which may be a piece of its password.
            throw new UsageException($"{setting} is not a PostgreSQL connection string (Host=…;Username=…;Password=…; a value holding ';' goes in quotes)");
        }
        try
        {
            await using var connection = new NpgsqlConnection(target.ConnectionString);
            await connection.OpenAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            // The server answered: the missing database is created at start-up, as a web node creates it.
        }
        catch (Exception e) when ((e is NpgsqlException or SocketException or TimeoutException or ArgumentException) && !cancellationToken.IsCancellationRequested)
        {
            var database = target.Database is { } name ? $", database {name}" : "";
            throw new InvalidOperationException(
                $"cannot connect to PostgreSQL at {target.Host}:{target.Port}{database}: {e.GetBaseException().Message}; check {setting}", e);
        }
    }
}
