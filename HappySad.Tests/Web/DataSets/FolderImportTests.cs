using HappySad.Tests.Support;
using HappySad.Web.Cli;
using HappySad.Web.DataSets;
using HappySad.Web.Storage;

namespace HappySad.Tests.Web.DataSets;

/// <summary>
/// A folder import reads and decodes several files at once but stores them in the folder's order:
/// the result is the one a file-by-file import gives, and a cancel leaves nothing half done.
/// </summary>
public sealed class FolderImportTests : IDisposable
{
    readonly HappySadAppFactory _app = new();
    readonly TempDirectory _folder = new();

    public void Dispose()
    {
        _app.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task PhotosAreStoredInTheFoldersOrderAndTheFirstOfTwoSameFilesWins()
    {
        for (var i = 0; i < 24; i++)
            File.WriteAllBytes(_folder.File($"{(i % 2 == 0 ? "happy" : "sad")}/{i:00}.png"), TestImages.Blocks(i, 120 + (i * 20), 150));
        // The same bytes twice, far apart in the order, and a file that is no photo.
        File.Copy(_folder.File("happy/02.png"), _folder.File("sad/99-same-as-02.png"));
        File.WriteAllText(_folder.File("sad/50-notes.png"), "not a photo");
        var id = await _app.CreateDataSetAsync();

        var outcomes = await _app.Service<PhotoImporter>().ImportFolderAsync(id, _folder.Path);

        var expectedOrder = Directory.EnumerateFiles(_folder.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(Path.GetFileName).ToList();
        Assert.Equal(expectedOrder, outcomes.Select(o => o.Name));
        var accepted = outcomes.Where(o => o.Status == UploadStatus.Accepted).ToList();
        Assert.Equal(24, accepted.Count);
        Assert.Equal(accepted.Select(o => o.PhotoId).Order(), accepted.Select(o => o.PhotoId)); // ids rise in the folder's order
        Assert.Equal(UploadStatus.Rejected, outcomes.Single(o => o.Name == "50-notes.png").Status);
        var duplicate = outcomes.Single(o => o.Name == "99-same-as-02.png");
        Assert.Equal(UploadStatus.Duplicate, duplicate.Status);
        Assert.Contains("label conflict", duplicate.Reason, StringComparison.Ordinal);
        Assert.Contains("as 02.png", duplicate.Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_app.Service<StoragePaths>().Incoming(id)));
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    /// <summary>A file the importer cannot read (a link to nothing) is that file's refusal; the files after it are stored.</summary>
    [Fact]
    public async Task AFileThatCannotBeReadIsRefusedAndTheImportGoesOn()
    {
        File.WriteAllBytes(_folder.File("happy/01.png"), TestImages.Blocks(1));
        File.CreateSymbolicLink(_folder.File("happy/02-gone.png"), _folder.File("nowhere/02.png"));
        File.WriteAllBytes(_folder.File("sad/03.png"), TestImages.Blocks(3));
        var id = await _app.CreateDataSetAsync();

        var outcomes = await _app.Service<PhotoImporter>().ImportFolderAsync(id, _folder.Path);

        Assert.Equal([("01.png", UploadStatus.Accepted), ("02-gone.png", UploadStatus.Rejected), ("03.png", UploadStatus.Accepted)], outcomes.Select(o => (o.Name, o.Status)));
        Assert.Equal("the file went away before it was read", outcomes[1].Reason);
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task ACancelledImportKeepsWhatItStoredAndLeavesNoSpool()
    {
        for (var i = 0; i < 60; i++)
            File.WriteAllBytes(_folder.File($"happy/{i:00}.png"), TestImages.Blocks(i, 400, 400));
        var id = await _app.CreateDataSetAsync();
        using var cancel = new CancellationTokenSource();
        var stored = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _app.Service<PhotoImporter>().ImportFolderAsync(id, _folder.Path,
            new InlineProgress<UploadOutcome>(_ =>
            {
                if (++stored == 10)
                    cancel.Cancel();
            }), cancel.Token));

        Assert.InRange((await _app.Service<DataSetService>().GetAsync(id))!.ClassCounts[0], 10, 11);
        Assert.Empty(Directory.GetFiles(_app.Service<StoragePaths>().Incoming(id)));
        await _app.AssertFilesAndRowsAgreeAsync();
    }
}
