using Bunit;
using HappySad.Web.Components.Pages.Datasets.Components;
using HappySad.Web.DataSets;
using MudBlazor.Services;

namespace HappySad.Tests.Web.Components;

/// <summary>MudBlazor's services only dispose asynchronously, so the bUnit context is disposed through <see cref="IAsyncLifetime"/>.</summary>
public sealed class UploadResultListTests : IAsyncLifetime
{
    readonly BunitContext _bunit = new();

    public UploadResultListTests()
    {
        _bunit.Services.AddMudServices();
        _bunit.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _bunit.DisposeAsync();

    static readonly UploadReport Report = new([
        new("a.jpg", UploadStatus.Accepted, "happy", PhotoId: 1),
        new("b.jpg", UploadStatus.Accepted, "happy", PhotoId: 2),
        new("smile.jpg", UploadStatus.Rejected, "happy", "SVG vector images are not supported (JPEG, PNG, BMP, GIF or WebP only)"),
        new("again.jpg", UploadStatus.Duplicate, "sad", "same file as a.jpg, already in happy"),
    ]);

    [Fact]
    public void CountsEachOutcomeAndListsOnlyProblemsByDefault()
    {
        var list = _bunit.Render<UploadResultList>(p => p.Add(c => c.Report, Report));

        Assert.Equal("2 added", list.Find("[data-testid=accepted-count]").TextContent.Trim());
        Assert.Equal("1 rejected", list.Find("[data-testid=rejected-count]").TextContent.Trim());
        Assert.Equal("1 already here", list.Find("[data-testid=duplicate-count]").TextContent.Trim());
        var rows = list.FindAll("[data-testid=upload-row]");
        Assert.Equal(["Rejected", "Duplicate"], rows.Select(r => r.GetAttribute("data-status")));
        Assert.Contains("SVG vector images are not supported", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("already in happy", rows[1].TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void ShowsAcceptedFilesWhenAsked()
    {
        var list = _bunit.Render<UploadResultList>(p => p.Add(c => c.Report, Report));

        list.Find("input[type=checkbox]").Change(true);

        Assert.Equal(4, list.FindAll("[data-testid=upload-row]").Count);
    }

    [Fact]
    public void SaysSoWhenEveryFileWasAccepted()
    {
        var list = _bunit.Render<UploadResultList>(p => p.Add(c => c.Report, new UploadReport([new("a.jpg", UploadStatus.Accepted, "happy", PhotoId: 1)])));

        Assert.Empty(list.FindAll("[data-testid=upload-row]"));
        Assert.Contains("Every file was added.", list.Markup, StringComparison.Ordinal);
    }
}
