using Bunit;
using HappySad.Tests.Support;
using HappySad.Training.Training;
using HappySad.Web.Components.Pages.Runs;
using HappySad.Web.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace HappySad.Tests.Web.Components;

/// <summary>The run page rendered by bUnit over the app's runs.</summary>
[Collection(TorchTraining.Name)]
public sealed class RunPageTests : IAsyncLifetime
{
    readonly PageTestHost _host = new(typeof(RunService), typeof(RunEvents));

    HappySadAppFactory _app => _host.App;

    BunitContext _bunit => _host.Bunit;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task TheNotebookRunsPageShowsItsModelSummary()
    {
        var dataSetId = await _app.CreateDataSetFromSharedPhotosAsync(10);
        var run = await _app.WaitForRunAsync((await _app.Service<RunService>().LaunchAsync(dataSetId, new RunRecipe { Epochs = 1 })).Id);
        var page = _bunit.Render<RunPage>(p => p.Add(c => c.Id, run.Id));
        page.WaitForState(() => page.FindAll("[data-testid=model-summary]").Count == 1);

        await page.Find("[data-testid=model-summary] .mud-expand-panel-header").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("Total params: 3,696,625", page.Find("[data-testid=model-summary-totals]").TextContent, StringComparison.Ordinal));
        Assert.Contains("non-trainable: 0", page.Find("[data-testid=model-summary-totals]").TextContent, StringComparison.Ordinal);
        Assert.Equal(13, page.FindAll("[data-testid=model-summary-layer]").Count);
        Assert.Contains("(None, 16, 254, 254)", page.Find("[data-testid=model-summary]").TextContent, StringComparison.Ordinal);
    }
}
