using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace HappySad.Tests.Support;

/// <summary>
/// A bUnit context for rendering pages over the app's real services (a started host with a
/// temporary data directory): the services a test names are handed to bUnit as they are.
/// </summary>
internal sealed class PageTestHost : IAsyncDisposable
{
    public PageTestHost(params Type[] services)
    {
        _ = App.Server; // starts the host: migrations applied, services built
        Bunit.Services.AddMudServices();
        foreach (var service in services)
            Bunit.Services.AddSingleton(service, App.Services.GetRequiredService(service));
        Bunit.Services.AddSingleton(TimeProvider.System);
        Bunit.JSInterop.Mode = JSRuntimeMode.Loose;
        // MudBlazor's popovers and dialogs need their providers somewhere on the page.
        Bunit.Render<MudPopoverProvider>();
    }

    public HappySadAppFactory App { get; } = new();

    public BunitContext Bunit { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await Bunit.DisposeAsync();
        await App.DisposeAsync();
    }
}
