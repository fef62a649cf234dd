using Bunit;
using HappySad.Tests.Support;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Web.Components.Pages;
using HappySad.Web.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Predictions;
using HappySad.Web.Runs;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Tests.Web.Components;

/// <summary>The home page's getting-started checklist, rendered by bUnit over the app's real state.</summary>
public sealed class HomePageTests : IAsyncLifetime
{
    readonly PageTestHost _host = new(typeof(DataSetService), typeof(RunService), typeof(ModelCatalog));

    HappySadAppFactory _app => _host.App;

    BunitContext _bunit => _host.Bunit;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task TheChecklistTicksEachStepOffAsItHappensAndLinksToTheNextOne()
    {
        AssertChecklist(done: 0, "/datasets", "Data sets");

        var dataSetId = await _app.CreateDataSetAsync("faces");
        AssertChecklist(done: 1, $"/datasets/{dataSetId}", "Upload photos");

        // One class is not enough to train on.
        var importer = _app.Service<PhotoImporter>();
        await importer.ImportFileAsync(dataSetId, "h.png", new MemoryStream(TestImages.Blocks(1)), "happy");
        AssertChecklist(done: 1, $"/datasets/{dataSetId}", "Upload photos");

        await importer.ImportFileAsync(dataSetId, "s.png", new MemoryStream(TestImages.Blocks(2)), "sad");
        var page = AssertChecklist(done: 2, $"/datasets/{dataSetId}", "Train");
        Assert.Contains("faces: 1 happy, 1 sad.", page.FindAll("[data-testid=checklist-step]")[1].TextContent, StringComparison.Ordinal);

        // A failed run does not count; a succeeded one does.
        await AddRunAsync(RunStatus.Failed);
        AssertChecklist(done: 2, $"/datasets/{dataSetId}", "Train");
        var runId = await AddRunAsync(RunStatus.Succeeded);
        page = AssertChecklist(done: 3, "/predict", "Predict");
        Assert.Equal($"/runs/{runId}", page.FindAll("[data-testid=checklist-link]")[2].GetAttribute("href"));

        using (var model = ModelArchitectures.Create(CompactCnn.ArchitectureName, seed: 1))
            ModelStore.Save(Path.Combine(_app.DataDirectory, "models", "faces.hsmodel"), model, new ModelCard { Architecture = CompactCnn.ArchitectureName, ClassNames = ["happy", "sad"] });
        page = AssertChecklist(done: 4, currentHref: null, currentAction: null);
        Assert.Contains("All done", page.Find("[data-testid=getting-started]").TextContent, StringComparison.Ordinal);
    }

    /// <summary>
    /// Renders the page afresh and checks that the first <paramref name="done"/> steps are ticked and
    /// that the first step left is the highlighted one, with its link.
    /// </summary>
    IRenderedComponent<Home> AssertChecklist(int done, string? currentHref, string? currentAction)
    {
        var page = _bunit.Render<Home>();
        page.WaitForState(() => page.FindAll("[data-testid=checklist-step]").Count == 4);
        var steps = page.FindAll("[data-testid=checklist-step]");
        Assert.Equal(Enumerable.Range(0, 4).Select(i => i < done ? "true" : "false"), steps.Select(s => s.GetAttribute("data-done")));
        var current = page.FindAll("li.checklist-current");
        if (currentHref is null)
        {
            Assert.Empty(current);
            return page;
        }
        Assert.Same(steps[done], Assert.Single(current));
        var link = page.FindAll("[data-testid=checklist-link]")[done];
        Assert.Equal(currentHref, link.GetAttribute("href"));
        Assert.Equal(currentAction, link.TextContent.Trim());
        return page;
    }

    async Task<int> AddRunAsync(RunStatus status)
    {
        await using var context = await _app.Service<IDbContextFactory<HappySadDbContext>>().CreateDbContextAsync();
        var run = new TrainingRun { DataName = "faces", Status = status, ClassNames = ["happy", "sad"], CreatedAt = DateTimeOffset.UtcNow };
        context.TrainingRuns.Add(run);
        await context.SaveChangesAsync();
        return run.Id;
    }
}
