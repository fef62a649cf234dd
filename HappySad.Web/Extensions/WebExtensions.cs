using HappySad.Training;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using HappySad.Web.Accounts;
using HappySad.Web.Api;
using HappySad.Web.Components;
using HappySad.Web.DataSets;
using HappySad.Web.Predictions;
using HappySad.Web.Runs;
using HappySad.Web.Runs.Distributed;
using HappySad.Web.Storage;
using Microsoft.Extensions.FileProviders;
using MudBlazor.Services;
using Scalar.AspNetCore;

namespace HappySad.Web.Extensions;

public static class WebExtensions
{
    /// <summary>Command-line switches that are shorthands for configuration keys.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--data-dir"] = $"{nameof(StorageOptions)}:{nameof(StorageOptions.DataDirectory)}",
    };

    /// <summary>
    /// What the web app and the command line share on the same host builder: the <c>--data-dir</c>
    /// switch over configuration, the storage with its initializer (a hosted service for the web app,
    /// started by hand by the command line, which runs no server), and the runs.
    /// </summary>
    public static TBuilder AddHappySadCore<TBuilder>(this TBuilder builder, string[] args) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        // The content root is where the app was started (./data resolves from there), so the
        // appsettings.json shipped beside the executable would go unread: it is the first, lowest source.
        if (File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.json")))
            builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
            {
                Path = "appsettings.json",
                Optional = true,
                FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
            });
        // SQL at Information level is a developer's tool, not what a person starting the app needs to read.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning);
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(SwitchMappings));
        builder.Services.AddHappySadTraining(PretrainedFrom(builder.Configuration));
        builder.Services.AddHappySadStorage();
        builder.Services.AddHappySadAccounts();
        builder.Services.AddSingleton<StorageInitializer>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StorageInitializer>());
        // After the storage initializer: hosted services start in order, and the worker's recovery needs the migrated database.
        builder.Services.AddHappySadRuns();
        builder.Services.AddHappySadDispatch(builder.Configuration);
        return builder;
    }

    /// <summary>
    /// The pretrained weights' cache: the <c>Pretrained</c> section (<c>CacheDirectory</c>,
    /// <c>RegistryUrl</c>, <c>DownloadTimeout</c>) over the environment's defaults.
    /// </summary>
    static PretrainedOptions PretrainedFrom(IConfiguration configuration)
    {
        var defaults = PretrainedOptions.FromEnvironment();
        var section = configuration.GetSection("Pretrained");
        return defaults with
        {
            CacheDirectory = section["CacheDirectory"] is { Length: > 0 } directory ? Path.GetFullPath(directory) : defaults.CacheDirectory,
            RegistryUrl = section["RegistryUrl"] is { Length: > 0 } registry ? registry : defaults.RegistryUrl,
            DownloadTimeout = section.GetValue("DownloadTimeout", defaults.DownloadTimeout),
        };
    }

    public static WebApplicationBuilder AddHappySadWeb(this WebApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Outside Development, a build (not publish) output finds MudBlazor's and the framework's
        // assets only through the static web assets manifest; without this they come back as empty
        // 200 responses for browsers that accept compression. Published output has no manifest, so
        // this is a no-op there.
        builder.WebHost.UseStaticWebAssets();
        // Before any request can touch TorchSharp: it does not retry a failed native load.
        TorchRuntime.EnsureInitialized();
        builder.AddHappySadCore(args);
        // Runs train here, or on worker processes whose progress arrives over the database.
        if (builder.Configuration.UsesWorkers())
        {
            builder.Services.AddHostedService<RunEventListener>();
            builder.Services.AddHostedService<RunSweeper>();
        }
        else
            builder.Services.AddHostedService<RunWorker>();
        builder.Services.AddHostedService<RunHubRelay>();
        builder.Services.AddSingleton<HubRevalidation>();
        builder.Services.AddHostedService(services => services.GetRequiredService<HubRevalidation>());
        builder.Services.AddSignalR().AddJsonProtocol(o => WireJson.Configure(o.PayloadSerializerOptions));
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        // The OpenAPI document reads its schemas' names from these options too.
        builder.Services.ConfigureHttpJsonOptions(o => WireJson.Configure(o.SerializerOptions));
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.AddHappySadAccess();
        return builder;
    }

    public static WebApplication UseHappySadWeb(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Environment.IsDevelopment())
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        // An address no endpoint answers (/nope, /runs/abc) gets the app's own 404 page, still with
        // status 404. It wraps the API branch below, which answers first with problem details, so only
        // empty answers outside /api are replaced.
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        // Scripts, hubs and circuits get their bare status (a 401 stays a 401), never a page.
        app.Use((http, next) =>
        {
            if (RequestGuards.IsMachineRequest(http.Request) && http.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>() is { } pages)
                pages.Enabled = false;
            return next(http);
        });
        // API clients get RFC 7807 problem details for any failure, never an HTML page or a stack trace.
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/api"), api =>
        {
            api.UseExceptionHandler();
            api.UseStatusCodePages();
        });
        // wwwroot-assets/ at the repository root is copied next to the app as wwwroot-assets/.
        // Served before authentication: the sign-in page needs them, and they hold no data.
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "wwwroot-assets")),
            RequestPath = "/assets",
        });
        app.UseHappySadAccess();
        app.MapStaticAssets().AllowAnonymous();
        app.MapAccountApi();
        app.MapDataSetApi();
        app.MapRunApi();
        app.MapModelApi();
        app.MapOpenApi();
        // A browsable page over the OpenAPI document, at /scalar.
        app.MapScalarApiReference(options => options.WithTitle("HappySad API"));
        app.MapHub<RunHub>(RunHub.Path);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
