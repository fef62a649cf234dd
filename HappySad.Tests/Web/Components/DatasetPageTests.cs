using Bunit;
using HappySad.Tests.Support;
using HappySad.Web.Accounts;
using HappySad.Web.Components.Pages.Datasets;
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
    public void SaysSoForADataSetThatDoesNotExist()
    {
        var page = _bunit.Render<DatasetPage>(p => p.Add(c => c.Id, 4242));

        page.WaitForAssertion(() => Assert.Contains("Data set 4242 does not exist", page.Markup, StringComparison.Ordinal));
    }

}
