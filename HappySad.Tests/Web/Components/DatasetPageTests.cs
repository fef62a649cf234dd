using Bunit;
using HappySad.Tests.Support;
using HappySad.Web.Accounts;
using HappySad.Web.Components.Pages.Datasets;
using HappySad.Web.Components.Pages.Datasets.Components;
using HappySad.Web.DataSets;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace HappySad.Tests.Web.Components;

/// <summary>The data set page rendered by bUnit over the app's real services and a temporary database.</summary>
public sealed class DatasetPageTests : IAsyncLifetime
{
    readonly PageTestHost _host = new(typeof(DataSetService), typeof(DataSetScanner));

    HappySadAppFactory _app => _host.App;

    BunitContext _bunit => _host.Bunit;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task ShowsCountsPerClassAndAThumbnailPerPhoto()
    {
        var id = await _app.CreateDataSetAsync("faces");
        var importer = _app.Service<PhotoImporter>();
        for (var i = 0; i < 3; i++)
            await importer.ImportFileAsync(id, $"h{i}.png", new MemoryStream(TestImages.Blocks(i)), "happy");
        await importer.ImportFileAsync(id, "s.jpg", new MemoryStream(TestImages.Blocks(9, format: SKEncodedImageFormat.Jpeg)), "sad");

        var page = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, id));

        page.WaitForAssertion(() => Assert.Equal("faces", page.Find("[data-testid=dataset-title]").TextContent));
        Assert.Equal(["3", "1"], page.FindAll("[data-testid=class-count] td:last-child").Select(td => td.TextContent));
        Assert.Equal("0", page.Find("[data-testid=trash-count]").TextContent);
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=thumb]").Count));
        Assert.All(page.FindAll("[data-testid=thumb] img"), img => Assert.StartsWith("api/photos/", img.GetAttribute("src"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task AViewerBrowsesButIsOfferedNothingThatChangesTheDataSet()
    {
        var id = await _app.CreateDataSetAsync("faces");
        await _app.Service<PhotoImporter>().ImportFileAsync(id, "h.png", new MemoryStream(TestImages.Blocks(1)), "happy");
        _host.Authorization.SetPolicies(AppPolicies.View);

        var page = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, id));
        page.WaitForState(() => page.FindAll("[data-testid=thumb]").Count == 1);

        // Not rendered, so a Blazor circuit has no handler a crafted event could reach.
        foreach (var action in (string[])["train-dataset", "delete-dataset"])
            Assert.Empty(page.FindAll($"[data-testid={action}]"));
        Assert.DoesNotContain("Rename", page.Markup, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("input[type=file]"));
        Assert.Contains("Your role (Viewer) can browse and predict", page.Markup, StringComparison.Ordinal);

        _host.Authorization.SetPolicies(AppPolicies.View, AppPolicies.Edit);
        var editors = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, id));
        editors.WaitForState(() => editors.FindAll("[data-testid=train-dataset]").Count == 1);
        Assert.NotEmpty(editors.FindAll("input[type=file]"));
    }

    /// <summary>A photo trashed from page 2 of a class leaves the grid on page 2, with the rest of that page.</summary>
    [Fact]
    public async Task AChangeMadeOnAGridsSecondPageKeepsTheGridOnIt()
    {
        var id = await _app.CreateDataSetAsync("many");
        var importer = _app.Service<PhotoImporter>();
        for (var i = 0; i < 50; i++)
            await importer.ImportFileAsync(id, $"p{i}.png", new MemoryStream(TestImages.Blocks(200 + i, 40, 40)), "happy");
        var dialogs = _bunit.Render<MudBlazor.MudDialogProvider>();
        var page = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, id));
        page.WaitForAssertion(() => Assert.Equal(48, page.FindAll("[data-testid=thumb]").Count));

        var pager = page.FindComponent<MudBlazor.MudPagination>();
        await page.InvokeAsync(() => pager.Instance.SelectedChanged.InvokeAsync(2));
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=thumb]").Count));
        var opened = page.Find("[data-testid=thumb]").ClickAsync(new());
        dialogs.WaitForState(() => dialogs.FindAll("[data-testid=trash-photo]").Count == 1);
        await dialogs.Find("[data-testid=trash-photo]").ClickAsync(new());
        await opened;

        page.WaitForAssertion(() => Assert.Equal("1", page.Find("[data-testid=trash-count]").TextContent));
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=thumb]")));
    }

    /// <summary>A data set deleted in another tab while this page was open: Delete says so and goes back to the list.</summary>
    [Fact]
    public async Task DeletingADataSetAnotherTabDeletedSaysSoAndGoesBackToTheList()
    {
        var id = await _app.CreateDataSetAsync("faces");
        var dialogs = _bunit.Render<MudBlazor.MudDialogProvider>();
        var navigation = _bunit.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        var page = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, id));
        page.WaitForState(() => page.FindAll("[data-testid=delete-dataset]").Count == 1);
        await _app.Service<DataSetService>().DeleteAsync(id);

        // The click's handler waits for the dialog's answer.
        var clicked = page.Find("[data-testid=delete-dataset]").ClickAsync(new());
        dialogs.WaitForState(() => dialogs.FindAll("[data-testid=confirm-button]").Count == 1);
        await dialogs.Find("[data-testid=confirm-button]").ClickAsync(new());
        await clicked;

        page.WaitForAssertion(() => Assert.EndsWith("/datasets", navigation.Uri, StringComparison.Ordinal));
        Assert.Contains(_bunit.Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars, s => s.Message == "'faces' was already deleted");
    }

    [Fact]
    public async Task PagesThumbnailsInsteadOfRenderingThemAll()
    {
        var id = await _app.CreateDataSetAsync("many");
        var importer = _app.Service<PhotoImporter>();
        for (var i = 0; i < 50; i++)
            await importer.ImportFileAsync(id, $"p{i}.png", new MemoryStream(TestImages.Blocks(100 + i, 40, 40)), "happy");

        var page = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, id));

        page.WaitForAssertion(() => Assert.Equal(48, page.FindAll("[data-testid=thumb]").Count));
        Assert.NotEmpty(page.FindAll(".mud-pagination"));
    }

    [Fact]
    public async Task TheHealthPanelTrashesTheExtraCopiesInOneClickAndTheCountsFollow()
    {
        var id = await _app.CreateDataSetAsync("faces");
        var importer = _app.Service<PhotoImporter>();
        // Picture 1 three times in happy (two re-sized, re-compressed copies), picture 5 in both classes, and singles.
        await Import(importer, id, "one.png", TestImages.Blocks(1, 300, 300), "happy");
        await Import(importer, id, "one-copy.jpg", Shrunk(1, 150), "happy");
        await Import(importer, id, "one-copy-2.jpg", Shrunk(1, 120), "happy");
        await Import(importer, id, "two.png", TestImages.Blocks(2, 300, 300), "happy");
        await Import(importer, id, "five.png", TestImages.Blocks(5, 300, 300), "happy");
        await Import(importer, id, "five-as-sad.jpg", Shrunk(5, 150), "sad");
        for (var i = 0; i < 3; i++)
            await Import(importer, id, $"sad{i}.png", TestImages.Blocks(20 + i, 300, 300), "sad");

        var page = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, id));

        page.WaitForAssertion(() => Assert.Contains("1 picture is in a class more than once (3 photos)", page.Find("[data-testid=health-duplicates]").TextContent, StringComparison.Ordinal));
        Assert.Contains("1 picture is in both classes (2 photos)", page.Find("[data-testid=health-conflicts]").TextContent, StringComparison.Ordinal);
        Assert.Equal(["5", "4"], page.FindAll("[data-testid=class-count] td:last-child").Select(td => td.TextContent));
        page.Find("[data-testid=health-show-duplicates]").Click();
        Assert.Equal(3, page.WaitForElement("[data-testid=health-group]").QuerySelectorAll("img").Length);

        page.Find("[data-testid=health-trash-copies]").Click();

        // The two later copies are in the trash, the first upload stays, and the page's counts say so.
        page.WaitForAssertion(() => Assert.Equal("2", page.Find("[data-testid=trash-count]").TextContent));
        Assert.Equal(["3", "4"], page.FindAll("[data-testid=class-count] td:last-child").Select(td => td.TextContent));
        Assert.Contains("No picture is in a class twice.", page.Find("[data-testid=health-duplicates]").TextContent, StringComparison.Ordinal);
        var trashed = (await _app.Service<DataSetService>().PageAsync(id, null, trashed: true, 0, 10)).Photos;
        Assert.Equal(["one-copy-2.jpg", "one-copy.jpg"], trashed.Select(p => p.OriginalName).Order(StringComparer.Ordinal));

        // The conflict: the picture is sad, so its happy copy goes to the trash.
        page.Find("[data-testid=health-show-conflicts]").Click();
        page.Find("[data-testid=health-keep-as][data-class=sad]").Click();
        page.WaitForAssertion(() => Assert.Equal("3", page.Find("[data-testid=trash-count]").TextContent));
        Assert.Contains("No picture is in both classes.", page.Find("[data-testid=health-conflicts]").TextContent, StringComparison.Ordinal);
        Assert.Equal(["2", "4"], page.FindAll("[data-testid=class-count] td:last-child").Select(td => td.TextContent));
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task HealthIsWorkedOutOncePerStateOfThePhotosAndFollowsEveryChange()
    {
        var id = await _app.CreateDataSetAsync("faces");
        var importer = _app.Service<PhotoImporter>();
        var scanner = _app.Service<DataSetScanner>();
        var dataSets = _app.Service<DataSetService>();
        await Import(importer, id, "one.png", TestImages.Blocks(1, 300, 300), "happy");
        await Import(importer, id, "one-copy.jpg", Shrunk(1, 150), "happy");
        await Import(importer, id, "two.png", TestImages.Blocks(2, 300, 300), "sad");

        var first = await scanner.HealthAsync(id);
        Assert.Single(first.Duplicates);
        Assert.Same(first, await scanner.HealthAsync(id)); // nothing changed: not worked out again

        var copy = (await dataSets.PageAsync(id, "happy", trashed: false, 0, 10)).Photos.Single(p => p.OriginalName == "one-copy.jpg");
        await dataSets.TrashAsync([copy.Id]);
        Assert.Empty((await scanner.HealthAsync(id)).Duplicates);
        await dataSets.RestoreAsync([copy.Id]);
        Assert.Single((await scanner.HealthAsync(id)).Duplicates);

        await Import(importer, id, "one-as-sad.jpg", Shrunk(1, 120), "sad");
        var now = await scanner.HealthAsync(id);
        Assert.Empty(now.Duplicates);
        Assert.Equal(3, Assert.Single(now.Conflicts).Count);
        Assert.Equal([2, 2], now.ClassCounts);
    }

    [Fact]
    public async Task TheHealthPanelWarnsWhenAClassIsSmallAndSaysTrainingDoesNotWeightClasses()
    {
        var id = await _app.CreateDataSetAsync("lopsided");
        var importer = _app.Service<PhotoImporter>();
        for (var i = 0; i < 7; i++)
            await Import(importer, id, $"h{i}.png", TestImages.Blocks(40 + i, 60, 60), "happy");
        for (var i = 0; i < 3; i++)
            await Import(importer, id, $"s{i}.png", TestImages.Blocks(60 + i, 60, 60), "sad");

        var page = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, id));

        var warning = page.WaitForElement("[data-testid=health-imbalance]").TextContent;
        Assert.Contains("sad is only 30", warning, StringComparison.Ordinal);
        Assert.Contains("Training does not weight the classes", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InTheLaunchDialogTheHealthPanelShowsTheFindingsAndLinksToTheirFixes()
    {
        var id = await _app.CreateDataSetAsync("faces");
        var importer = _app.Service<PhotoImporter>();
        await Import(importer, id, "one.png", TestImages.Blocks(1, 300, 300), "happy");
        await Import(importer, id, "one-copy.jpg", Shrunk(1, 150), "happy");
        await Import(importer, id, "one-as-sad.jpg", Shrunk(1, 120), "sad");

        var panel = _bunit.Render<DataHealthPanel>(p => p.Add(c => c.DataSetId, id).Add(c => c.ReadOnly, true));

        panel.WaitForAssertion(() => Assert.Contains("1 picture is in both classes (3 photos)", panel.Find("[data-testid=health-conflicts]").TextContent, StringComparison.Ordinal));
        Assert.Empty(panel.FindAll("[data-testid=health-trash-copies], [data-testid=health-trash-conflicts]"));
        panel.Find("[data-testid=health-show-conflicts]").Click();
        Assert.Equal(3, panel.Find("[data-testid=health-group]").QuerySelectorAll("img").Length);
        Assert.Empty(panel.FindAll("[data-testid=health-keep-as]"));
        Assert.Equal($"/datasets/{id}", panel.Find("a[href^='/datasets/']").GetAttribute("href"));
    }

    static async Task Import(PhotoImporter importer, int dataSetId, string name, byte[] bytes, string className)
    {
        await using var stream = new MemoryStream(bytes);
        Assert.Equal(UploadStatus.Accepted, (await importer.ImportFileAsync(dataSetId, name, stream, className)).Status);
    }

    /// <summary>Picture <paramref name="seed"/> re-sized and re-compressed: a near duplicate, not the same bytes.</summary>
    static byte[] Shrunk(int seed, int size)
    {
        using var bitmap = SKBitmap.Decode(TestImages.Blocks(seed, 300, 300));
        using var small = bitmap.Resize(new SKImageInfo(size, size), new SKSamplingOptions(SKFilterMode.Linear));
        return TestImages.Encode(small, SKEncodedImageFormat.Jpeg, 70);
    }

    [Fact]
    public void SaysSoForADataSetThatDoesNotExist()
    {
        var page = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, 4242));

        page.WaitForAssertion(() => Assert.Contains("Data set 4242 does not exist", page.Markup, StringComparison.Ordinal));
    }

}
