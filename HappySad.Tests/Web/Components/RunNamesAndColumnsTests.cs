using Bunit;
using HappySad.Tests.Support;
using HappySad.Web.Accounts;
using HappySad.Web.Components.Pages.Runs;
using HappySad.Web.Data;
using HappySad.Web.Runs;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HappySad.Tests.Web.Components;

/// <summary>
/// The run pages over finished runs written straight to the database (nothing trains): a run's name
/// and notes, Compare's confusion matrices, and the runs grid's column picker.
/// </summary>
public sealed class RunNamesAndColumnsTests : IAsyncLifetime
{
    readonly PageTestHost _host = new(typeof(RunService), typeof(RunEvents));

    HappySadAppFactory _app => _host.App;

    BunitContext _bunit => _host.Bunit;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    /// <summary>A succeeded run with the test counts given (true happy, false sad, true sad, false happy, sad being positive).</summary>
    async Task<int> AddRunAsync(int truePositives, int falsePositives, int trueNegatives, int falseNegatives)
    {
        var run = new TrainingRun
        {
            Status = RunStatus.Succeeded,
            DataName = "photos",
            ClassNames = ["happy", "sad"],
            SnapshotHash = new string('a', 64),
            CreatedAt = DateTimeOffset.UtcNow,
            TestImages = truePositives + falsePositives + trueNegatives + falseNegatives,
            TestAccuracy = (double)(truePositives + trueNegatives) / (truePositives + falsePositives + trueNegatives + falseNegatives),
            TruePositives = truePositives,
            FalsePositives = falsePositives,
            TrueNegatives = trueNegatives,
            FalseNegatives = falseNegatives,
        };
        var context = await _app.Service<IDbContextFactory<HappySadDbContext>>().CreateDbContextAsync();
        await using (context)
        {
            context.TrainingRuns.Add(run);
            await context.SaveChangesAsync();
        }
        return run.Id;
    }

    [Fact]
    public async Task AnEditorNamesARunOnItsPageAndItsTitleAndNotesShowIt()
    {
        var id = await AddRunAsync(5, 1, 4, 2);
        var page = _bunit.Render<RunPage>(p => p.Add(c => c.Id, id));
        page.WaitForState(() => page.FindAll("[data-testid=edit-run-notes]").Count == 1);

        await page.Find("[data-testid=edit-run-notes]").ClickAsync(new());
        page.Find("[data-testid=run-name-input]").Change("faces, lr 0.0005");
        page.Find("[data-testid=run-notes-input]").Change("Trained after moving the mislabelled photos.");
        await page.Find("[data-testid=save-run-notes]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Equal($"Run {id} · faces, lr 0.0005", page.Find("[data-testid=run-title]").TextContent));
        Assert.Equal("Trained after moving the mislabelled photos.", page.Find("[data-testid=run-notes-text]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=run-notes-editor]"));
        var stored = await _app.Service<RunService>().GetAsync(id);
        Assert.Equal(("faces, lr 0.0005", "Trained after moving the mislabelled photos."), (stored!.Name, stored.Notes));
    }

    [Fact]
    public async Task ANameTooLongIsExplainedAndNotSaved()
    {
        var id = await AddRunAsync(5, 1, 4, 2);
        var page = _bunit.Render<RunPage>(p => p.Add(c => c.Id, id));
        page.WaitForState(() => page.FindAll("[data-testid=edit-run-notes]").Count == 1);

        await page.Find("[data-testid=edit-run-notes]").ClickAsync(new());
        page.Find("[data-testid=run-name-input]").Change(new string('n', 120));
        await page.Find("[data-testid=save-run-notes]").ClickAsync(new());

        Assert.Contains("at most 100 are allowed", page.Find("[data-testid=run-notes-problems]").TextContent, StringComparison.Ordinal);
        Assert.Null((await _app.Service<RunService>().GetAsync(id))!.Name);
    }

    [Fact]
    public async Task AViewerReadsTheNotesButIsOfferedNoWayToEditThem()
    {
        var id = await AddRunAsync(5, 1, 4, 2);
        await _app.Service<RunService>().DescribeAsync(id, new RunDescription("baseline", "The notebook's recipe."));
        _host.Authorization.SetPolicies(AppPolicies.View);

        var page = _bunit.Render<RunPage>(p => p.Add(c => c.Id, id));
        page.WaitForState(() => page.FindAll("[data-testid=run-notes-text]").Count == 1);

        Assert.Equal($"Run {id} · baseline", page.Find("[data-testid=run-title]").TextContent);
        Assert.Equal("The notebook's recipe.", page.Find("[data-testid=run-notes-text]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=edit-run-notes]"));
    }

    [Fact]
    public async Task CompareShowsEachRunsConfusionMatrixSideBySide()
    {
        var first = await AddRunAsync(truePositives: 5, falsePositives: 1, trueNegatives: 4, falseNegatives: 2);
        var second = await AddRunAsync(truePositives: 7, falsePositives: 0, trueNegatives: 6, falseNegatives: 0);
        await _app.Service<RunService>().DescribeAsync(second, new RunDescription("with faces"));

        _bunit.Services.GetRequiredService<NavigationManager>().NavigateTo($"/runs/compare?ids={first},{second}");
        var page = _bunit.Render<ComparePage>();
        page.WaitForState(() => page.FindAll("[data-testid=compare-matrix]").Count == 2);

        var matrices = page.FindAll("[data-testid=compare-matrix]");
        Assert.Equal([first, second], matrices.Select(m => int.Parse(m.GetAttribute("data-run")!, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal($"Run {second} · with faces", matrices[1].QuerySelector("h3")!.TextContent);
        // Rows are the true class, columns what the model said: happy→happy, happy→sad; sad→happy, sad→sad.
        Assert.Equal(["4", "1", "2", "5"], matrices[0].QuerySelectorAll("td").Select(c => c.TextContent));
        Assert.Equal(["6", "0", "0", "7"], matrices[1].QuerySelectorAll("td").Select(c => c.TextContent));
        Assert.NotNull(page.Find("[data-testid=compare-matrices] .compare-matrices"));
    }

    [Fact]
    public async Task TheColumnPickerShowsAHiddenColumnAndRemembersTheChoice()
    {
        await AddRunAsync(5, 1, 4, 2);
        var page = _bunit.Render<RunsPage>();
        page.WaitForState(() => page.FindAll("[data-testid=run-link]").Count == 1);
        Assert.DoesNotContain("Settings", Headers(page));
        Assert.Contains("Test acc", Headers(page));

        await page.Find("[data-testid=run-columns] button").ClickAsync(new());
        _host.Popovers.WaitForState(() => _host.Popovers.FindAll("[data-testid=run-column]").Count == 7);
        await _host.Popovers.Find("[data-testid=run-column][data-column=Settings]").ClickAsync(new());
        await _host.Popovers.Find("[data-testid=run-column][data-column='Test acc']").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("Settings", Headers(page)));
        Assert.DoesNotContain("Test acc", Headers(page));
        Assert.Contains($"{new HappySad.Training.Training.RunRecipe().Epochs} epochs, batch", page.Find("tbody").TextContent, StringComparison.Ordinal);
        var saved = _bunit.JSInterop.Invocations["localStorage.setItem"];
        Assert.Equal(["happysad.runs.hidden-columns", "Best val acc|Test acc|Duration|Device"], saved[^1].Arguments.Select(a => a?.ToString()));
    }

    [Fact]
    public async Task TheGridOpensWithTheColumnsChosenLastTime()
    {
        await AddRunAsync(5, 1, 4, 2);
        _bunit.JSInterop.Setup<string?>("localStorage.getItem", "happysad.runs.hidden-columns").SetResult("Data|Started");

        var page = _bunit.Render<RunsPage>();

        page.WaitForAssertion(() => Assert.DoesNotContain("Started", Headers(page)));
        Assert.DoesNotContain("Data", Headers(page));
        Assert.Contains("Settings", Headers(page));
        Assert.Contains("Device", Headers(page));
    }

    /// <summary>A run deleted in another tab leaves the grid and its own open page at once, with no other run event to wait for.</summary>
    [Fact]
    public async Task ARunDeletedElsewhereLeavesTheGridAndItsPage()
    {
        var kept = await AddRunAsync(5, 1, 4, 2);
        var deleted = await AddRunAsync(3, 2, 4, 1);
        var grid = _bunit.Render<RunsPage>();
        grid.WaitForState(() => grid.FindAll("[data-testid=run-link]").Count == 2);
        var open = _bunit.Render<RunPage>(p => p.Add(c => c.Id, deleted));
        open.WaitForState(() => open.FindAll("[data-testid=edit-run-notes]").Count == 1);

        await _app.Service<RunService>().DeleteAsync(deleted);

        grid.WaitForAssertion(() => Assert.Equal([$"/runs/{kept}"], grid.FindAll("[data-testid=run-link]").Select(a => a.GetAttribute("href"))));
        open.WaitForAssertion(() => Assert.Contains($"Run {deleted} does not exist: it may have been deleted.", open.Markup, StringComparison.Ordinal));
    }

    /// <summary>The column titles, without the sort and filter buttons beside them.</summary>
    static List<string> Headers(IRenderedComponent<RunsPage> page) =>
        [.. page.FindAll("thead th .column-header").Select(h => h.ChildNodes.FirstOrDefault()?.TextContent.Trim() ?? "").Where(t => t.Length > 0)];
}
