using Bunit;
using HappySad.Web.Components.Pages.Runs.Components;
using HappySad.Web.Data;
using MudBlazor.Services;

namespace HappySad.Tests.Web.Components;

/// <summary>The run page's snapshot panel, for runs that recorded their near-duplicate groups and runs from before.</summary>
public sealed class SnapshotPanelTests : IAsyncDisposable
{
    readonly BunitContext _bunit = new();

    public SnapshotPanelTests() => _bunit.Services.AddMudServices();

    public ValueTask DisposeAsync() => _bunit.DisposeAsync();

    [Fact]
    public void SaysHowManyNearDuplicateGroupsTheSplitKeptTogetherAndNamesLabelConflicts()
    {
        var panel = _bunit.Render<SnapshotPanel>(p => p.Add(c => c.Run, Run(groups: 69, photos: 138, conflicts: 1)));

        var line = panel.Find("[data-testid=run-near-duplicates]").TextContent;
        Assert.Contains("69 near-duplicate groups (138 photos) kept in one split", line, StringComparison.Ordinal);
        Assert.Contains("1 with the same picture in both classes (label conflict)", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ARunFromBeforeGroupsWereRecordedStillShowsItsSnapshot()
    {
        var panel = _bunit.Render<SnapshotPanel>(p => p.Add(c => c.Run, Run(groups: null, photos: null, conflicts: null)));

        Assert.Contains("211 / 60 / 30", panel.Markup, StringComparison.Ordinal);
        Assert.Empty(panel.FindAll("[data-testid=run-near-duplicates]"));
    }

    static TrainingRun Run(int? groups, int? photos, int? conflicts) => new()
    {
        DataName = "photos",
        ClassNames = ["happy", "sad"],
        SnapshotHash = new string('a', 64),
        TrainImages = 211,
        ValidationImages = 60,
        TestImages = 30,
        NearDuplicateGroups = groups,
        NearDuplicatePhotos = photos,
        LabelConflicts = conflicts,
    };
}
