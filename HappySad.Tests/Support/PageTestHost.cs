using Bunit;
using Bunit.TestDoubles;
using HappySad.Web.Accounts;
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
        // Signed in as an Editor unless a test says otherwise (Authorization.SetPolicies).
        Authorization = Bunit.AddAuthorization();
        Authorization.SetAuthorized("page-test-editor");
        Authorization.SetPolicies(AppPolicies.View, AppPolicies.Edit);
        // MudBlazor's popovers and dialogs need their providers somewhere on the page.
        Popovers = Bunit.Render<MudPopoverProvider>();
    }

    public HappySadAppFactory App { get; } = new();

    /// <summary>Where open menus and popovers render, to find their items in.</summary>
    public IRenderedComponent<MudPopoverProvider> Popovers { get; }

    public BunitContext Bunit { get; } = new();

    /// <summary>Who the rendered pages think is signed in, and which of the app's policies they meet.</summary>
    public BunitAuthorizationContext Authorization { get; }

    public async ValueTask DisposeAsync()
    {
        await Bunit.DisposeAsync();
        await App.DisposeAsync();
    }
}
