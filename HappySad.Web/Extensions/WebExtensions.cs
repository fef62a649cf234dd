using HappySad.Training.Native;
using HappySad.Web.Api;
using HappySad.Web.Components;
using HappySad.Web.Services;
using Microsoft.Extensions.FileProviders;
using MudBlazor.Services;

namespace HappySad.Web.Extensions;

public static class WebExtensions
{
    /// <summary>Command-line switches that are shorthands for configuration keys.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--data-dir"] = $"{nameof(StorageOptions)}:{nameof(StorageOptions.DataDirectory)}",
    };

    public static WebApplicationBuilder AddHappySadWeb(this WebApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(SwitchMappings));
        // Outside Development, a build (not publish) output finds MudBlazor's and the framework's
        // assets only through the static web assets manifest; without this they come back as empty
        // 200 responses for browsers that accept compression. Published output has no manifest, so
        // this is a no-op there.
        builder.WebHost.UseStaticWebAssets();
        // Before any request can touch TorchSharp: it does not retry a failed native load.
        TorchRuntime.EnsureInitialized();
        builder.Services.AddHappySadStorage();
        builder.Services.AddHostedService<StorageInitializer>();
        builder.Services.AddProblemDetails();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        return builder;
    }

    public static WebApplication UseHappySadWeb(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Environment.IsDevelopment())
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        app.UseAntiforgery();
        // wwwroot-assets/ at the repository root is copied next to the app as wwwroot-assets/.
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "wwwroot-assets")),
            RequestPath = "/assets",
        });
        app.MapStaticAssets();
        app.MapDataSetApi();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
