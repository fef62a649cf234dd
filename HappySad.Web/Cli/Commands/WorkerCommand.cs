using System.CommandLine;
using HappySad.Training.Native;
using HappySad.Web.Extensions;
using HappySad.Web.Runs.Distributed;
using HappySad.Web.Storage;

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
        if (postgres is not null)
            settings["ConnectionStrings:HappySad"] = postgres;

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = typeof(WorkerCommand).Assembly.GetName().Name,
            EnvironmentName = cli.Host?.EnvironmentName,
            ContentRootPath = cli.Host?.ContentRootPath,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
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
}
