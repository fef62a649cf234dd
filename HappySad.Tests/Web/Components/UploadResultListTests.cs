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

    static readonly UploadSummary Summary = UploadSummary.Of([
        new("a.jpg", UploadStatus.Accepted, "happy", PhotoId: 1),
        new("b.jpg", UploadStatus.Accepted, "happy", PhotoId: 2),
        new("smile.jpg", UploadStatus.Rejected, "happy", "SVG vector images are not supported (JPEG, PNG, BMP, GIF or WebP only)"),
        new("again.jpg", UploadStatus.Duplicate, "sad", "label conflict: sent as sad, but the same photo is already in happy as a.jpg", ExistingClass: "happy"),
        new("twice.jpg", UploadStatus.Duplicate, "happy", "already in this data set: same file as b.jpg, in happy", ExistingClass: "happy"),
    ]);

    [Fact]
    public void CountsWhatNeedsNothingAndListsRejectionsThenLabelConflicts()
    {
        var list = _bunit.Render<UploadResultList>(p => p.Add(c => c.Summary, Summary));

        Assert.Equal("2 added", list.Find("[data-testid=accepted-count]").TextContent.Trim());
        Assert.Equal("1 already here", list.Find("[data-testid=duplicate-count]").TextContent.Trim());
        Assert.Equal("1 rejected", list.Find("[data-testid=rejected-count]").TextContent.Trim());
        Assert.Equal("1 label conflict", list.Find("[data-testid=conflict-count]").TextContent.Trim());
        var rows = list.FindAll("[data-testid=upload-row]");
        Assert.Equal(["Rejected", "LabelConflict"], rows.Select(r => r.GetAttribute("data-status")));
        Assert.Contains("SVG vector images are not supported", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("Label conflict", rows[1].TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void ManyProblemsWaitBehindShowDetails()
    {
        var many = UploadSummary.Of(Enumerable.Range(0, 21).Select(i => new UploadOutcome($"{i}.jpg", UploadStatus.Rejected, "happy", "file is empty (0 bytes)")));
        var list = _bunit.Render<UploadResultList>(p => p.Add(c => c.Summary, many));
        Assert.Empty(list.FindAll("[data-testid=upload-row]"));

        list.Find("[data-testid=upload-details-toggle]").Click();

        Assert.NotEmpty(list.FindAll("[data-testid=upload-row]"));
        Assert.Contains("Hide details", list.Find("[data-testid=upload-details-toggle]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void SaysSoWhenNothingNeedsALook()
    {
        var list = _bunit.Render<UploadResultList>(p => p.Add(c => c.Summary, UploadSummary.Of([new("a.jpg", UploadStatus.Accepted, "happy", PhotoId: 1)])));

        Assert.Empty(list.FindAll("[data-testid=upload-row]"));
        Assert.Contains("Nothing needs a look", list.Markup, StringComparison.Ordinal);
        Assert.Empty(list.FindAll("[data-testid=conflict-count]"));
    }
}
