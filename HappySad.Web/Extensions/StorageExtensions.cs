using HappySad.Web.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Predictions;
using HappySad.Web.Runs;
using HappySad.Web.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Extensions;

public static class StorageExtensions
{
    /// <summary>The database, the data directory and the data set services, for the web app and the command line alike.</summary>
    public static IServiceCollection AddHappySadStorage(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(nameof(StorageOptions))
            .PostConfigure<IConfiguration>((options, configuration) => options.WithConnectionStringFrom(configuration))
            .Validate(options => options.Provider != StorageProvider.Postgres || !string.IsNullOrWhiteSpace(options.ConnectionString),
                "StorageOptions:Provider is Postgres: set StorageOptions:ConnectionString or ConnectionStrings:HappySad.");
        services.AddOptions<UploadLimits>().BindConfiguration(nameof(UploadLimits));
        services.AddSingleton<StoragePaths>();
        services.AddSingleton<DataDirectoryLock>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddDbContextFactory<HappySadDbContext, HappySadDbContextFactory>((provider, options) =>
            HappySadDbContextFactory.Configure(options, provider.GetRequiredService<IOptions<StorageOptions>>().Value, provider.GetRequiredService<StoragePaths>()));
        services.AddSingleton<DataSetService>();
        services.AddSingleton<PhotoImporter>();
        services.AddSingleton<DataSetScanner>();
        services.AddSingleton<ThumbnailCache>();
        services.AddSingleton<StorageReconciler>();
        return services;
    }

    /// <summary>Training runs: their records, the queue, the executor and the progress notifier. The worker that drains the queue is the web app's.</summary>
    public static IServiceCollection AddHappySadRuns(this IServiceCollection services)
    {
        services.AddOptions<TrainingOptions>().BindConfiguration(nameof(TrainingOptions));
        services.AddSingleton<RunEvents>();
        services.AddSingleton<RunQueue>();
        services.AddSingleton<RunSnapshot>();
        services.AddSingleton<RunRecorder>();
        services.AddSingleton<RunExecutor>();
        services.AddSingleton<RunService>();
        services.AddSingleton<RunRecovery>();
        services.AddOptions<PredictionOptions>().BindConfiguration(nameof(PredictionOptions));
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<ModelCache>();
        services.AddSingleton<PredictionService>();
        return services;
    }
}
