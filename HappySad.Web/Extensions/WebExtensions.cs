using HappySad.Training.Native;
using HappySad.Web.Components;
using Microsoft.Extensions.FileProviders;
using MudBlazor.Services;

namespace HappySad.Web.Extensions;

public static class WebExtensions
{
    public static WebApplicationBuilder AddHappySadWeb(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Before any request can touch TorchSharp: it does not retry a failed native load.
        TorchRuntime.EnsureInitialized();
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
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
