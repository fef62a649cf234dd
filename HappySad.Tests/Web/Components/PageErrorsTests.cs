using Bunit;
using HappySad.Web.Components.Layout;
using HappySad.Web.DataSets;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace HappySad.Tests.Web.Components;

/// <summary>An action that fails on a page shows why in its place, and the page comes back, instead of the dashboard's connection ending.</summary>
public sealed class PageErrorsTests : IDisposable
{
    readonly BunitContext _bunit = new();

    public PageErrorsTests()
    {
        _bunit.Services.AddMudServices();
        _bunit.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public void Dispose() => _bunit.Dispose();

    [Fact]
    public async Task SomethingDeletedMeanwhileIsSaidSoAndLeavingThePageBringsItBack()
    {
        var page = _bunit.Render<PageErrors>(p => p.AddChildContent<Failing>(c => c.Add(f => f.Error, new PhotoNotFoundException(7))));

        await page.Find("[data-testid=failing-action]").ClickAsync(new());

        Assert.Equal("That did not work: photo 7 does not exist. It was probably deleted meanwhile, in another tab or by someone else.",
            page.Find("[data-testid=page-error] p").TextContent);
        Assert.Empty(page.FindAll("[data-testid=failing-action]"));

        _bunit.Services.GetRequiredService<NavigationManager>().NavigateTo("/datasets");
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=failing-action]")));
        Assert.Empty(page.FindAll("[data-testid=page-error]"));
    }

    [Fact]
    public async Task AnythingElseSaysTheServersLogHasTheReasonAndTheButtonBringsThePageBack()
    {
        var page = _bunit.Render<PageErrors>(p => p.AddChildContent<Failing>(c => c.Add(f => f.Error, new IOException("disk /srv/x full"))));

        await page.Find("[data-testid=failing-action]").ClickAsync(new());

        var said = page.Find("[data-testid=page-error] p").TextContent;
        Assert.Equal("That did not work: something failed on the server (its log has the reason).", said);
        await page.Find("[data-testid=page-error-recover]").ClickAsync(new());
        Assert.Single(page.FindAll("[data-testid=failing-action]"));
    }

    /// <summary>A page with one button whose action throws <see cref="Error"/>.</summary>
    sealed class Failing : ComponentBase
    {
        [Parameter] public Exception Error { get; set; } = default!;

        protected override void BuildRenderTree(RenderTreeBuilder builder)
        {
            builder.OpenElement(0, "button");
            builder.AddAttribute(1, "data-testid", "failing-action");
            builder.AddAttribute(2, "onclick", EventCallback.Factory.Create(this, () => throw Error));
            builder.CloseElement();
        }
    }
}
