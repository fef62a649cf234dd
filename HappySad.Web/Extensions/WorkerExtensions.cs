using Hangfire;
using Hangfire.PostgreSql;
using HappySad.Web.Runs;
using HappySad.Web.Runs.Distributed;
using HappySad.Web.Storage;
using Npgsql;

namespace HappySad.Web.Extensions;

/// <summary>Who trains queued runs: the app itself (the default), or <c>worker</c> processes through Hangfire on PostgreSQL.</summary>
public static class WorkerExtensions
{
    /// <summary>The dispatcher for <see cref="WorkerOptions.Mode"/>, and in Hangfire mode the job storage and the signals between nodes.</summary>
    public static IServiceCollection AddHappySadDispatch(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection("Workers");
        services.AddOptions<WorkerOptions>().Bind(section);
        var options = section.Get<WorkerOptions>() ?? new WorkerOptions();
        if (options.Mode == RunDispatchMode.InProcess)
        {
            services.AddSingleton<IRunDispatcher, InProcessRunDispatcher>();
            return services;
        }

        var connectionString = PostgresConnectionString(configuration)
            ?? throw new InvalidOperationException("Workers:Mode is Hangfire, which keeps its queue in PostgreSQL: set StorageOptions:Provider to Postgres and StorageOptions:ConnectionString");
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        services.AddSingleton<RunSignals>();
        services.AddSingleton<IRunDispatcher, HangfireRunDispatcher>();
        services.AddTransient<RunJob>();
        services.AddHangfire(hangfire => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(storage => storage.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                // A live worker keeps pushing its claim forward; a dead one's run is claimed again after the timeout.
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = options.InvisibilityTimeout,
                QueuePollInterval = options.QueuePollInterval,
                // Workers wake on a NOTIFY when a run is queued instead of waiting for the next poll.
                EnableLongPolling = true,
            }));
        return services;
    }

    /// <summary>A <c>worker</c> process: a Hangfire server that trains runs, sends their progress to the web nodes and hears cancels.</summary>
    public static IServiceCollection AddHappySadWorker(this IServiceCollection services, WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddHangfireServer(server =>
        {
            server.ServerName = options.WorkerName;
            server.WorkerCount = options.RunsAtOnce;
            // Idle workers notice a queued run within this; EnableLongPolling usually wakes them sooner.
            server.SchedulePollingInterval = options.QueuePollInterval;
        });
        services.AddHostedService<RunEventForwarder>();
        services.AddHostedService<RunCancelListener>();
        return services;
    }

    public static bool UsesWorkers(this IConfiguration configuration) =>
        (configuration.GetSection("Workers").Get<WorkerOptions>()?.Mode ?? RunDispatchMode.InProcess) == RunDispatchMode.Hangfire;

    /// <summary>The PostgreSQL database both the runs and Hangfire's queue live in; null with the SQLite default.</summary>
    static string? PostgresConnectionString(IConfiguration configuration) =>
        StorageOptions.From(configuration) is { Provider: StorageProvider.Postgres } storage ? storage.ConnectionString : null;
}
