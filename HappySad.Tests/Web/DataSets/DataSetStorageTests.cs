using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Web.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Storage;
using Microsoft.EntityFrameworkCore;
using SkiaSharp;

namespace HappySad.Tests.Web.DataSets;

/// <summary>Every test runs on both providers: SQLite (<see cref="OnSqlite"/>) and PostgreSQL (<see cref="OnPostgres"/>).</summary>
public abstract class DataSetStorageTests : IDisposable
{
    readonly HappySadAppFactory _app;
    readonly HttpClient _client;

    DataSetStorageTests(TestDatabase database)
    {
        _app = new(database: database);
        _client = _app.CreateClient();
    }

    public sealed class OnSqlite() : DataSetStorageTests(TestDatabase.Sqlite);

    [Collection(PostgresServer.Name)]
    public sealed class OnPostgres(PostgresServer server) : DataSetStorageTests(server.CreateDatabase());

    DataSetService DataSets => _app.Service<DataSetService>();

    [Fact]
    public async Task TrashedPhotosLeaveTheClassAndComeBackOnRestore()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "happy", ("a.png", TestImages.Blocks(1)), ("b.png", TestImages.Blocks(2)));
        var photoId = report.Files[0].PhotoId!.Value;

        await DataSets.TrashAsync([photoId]);
        var trashed = (await DataSets.GetAsync(id))!;
        Assert.Equal((1, 1), (trashed.ClassCounts[0], trashed.TrashCount));
        Assert.Equal([photoId], (await DataSets.PageAsync(id, null, trashed: true, 0, 10)).Photos.Select(p => p.Id));
        await _app.AssertFilesAndRowsAgreeAsync();

        await DataSets.RestoreAsync([photoId]);
        var restored = (await DataSets.GetAsync(id))!;
        Assert.Equal((2, 0), (restored.ClassCounts[0], restored.TrashCount));
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task EmptyingTheTrashDeletesOnlyTrashedPhotos()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "sad", ("a.png", TestImages.Blocks(1)), ("b.png", TestImages.Blocks(2)));
        await DataSets.TrashAsync([report.Files[1].PhotoId!.Value]);

        Assert.Equal(1, await DataSets.EmptyTrashAsync(id));

        var summary = (await DataSets.GetAsync(id))!;
        Assert.Equal((1, 0), (summary.ClassCounts[1], summary.TrashCount));
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task MovingAPhotoToTheOtherClassMovesItsFile()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "happy", ("a.png", TestImages.Blocks(1)));
        var photoId = report.Files[0].PhotoId!.Value;

        await DataSets.MoveToClassAsync(photoId, "sad");

        var photo = (await DataSets.GetPhotoAsync(photoId))!;
        Assert.Equal("sad", photo.ClassName);
        Assert.Contains("/sad/", _app.Service<StoragePaths>().PhotoFile(photo), StringComparison.Ordinal);
        await _app.AssertFilesAndRowsAgreeAsync();
        await Assert.ThrowsAsync<DataSetException>(() => DataSets.MoveToClassAsync(photoId, "angry"));
    }

    [Fact]
    public async Task CreatingRefusesBadNamesAndKeepsClassesInOrdinalOrder()
    {
        var created = await DataSets.CreateAsync("faces", "sad", "happy");
        Assert.Equal(["happy", "sad"], created.ClassNames);
        Assert.Equal(["glücklich", "traurig"], (await DataSets.CreateAsync("gefühle", "traurig", "glücklich")).ClassNames);

        await Assert.ThrowsAsync<DataSetException>(() => DataSets.CreateAsync("faces"));
        await Assert.ThrowsAsync<DataSetException>(() => DataSets.CreateAsync("other", "../etc", "sad"));
        await Assert.ThrowsAsync<DataSetException>(() => DataSets.CreateAsync("other", "Happy", "happy"));
        await Assert.ThrowsAsync<DataSetException>(() => DataSets.CreateAsync("  "));
    }

    [Fact]
    public async Task DeletingADataSetRemovesItsRowsAndFolder()
    {
        var id = await _app.CreateDataSetAsync();
        await Multipart.UploadAsync(_client, id, "happy", ("a.png", TestImages.Blocks(1)));

        await DataSets.DeleteAsync(id);

        Assert.Null(await DataSets.GetAsync(id));
        Assert.False(Directory.Exists(_app.Service<StoragePaths>().DataSet(id)));
        await Assert.ThrowsAsync<DataSetNotFoundException>(() => DataSets.DeleteAsync(id));
    }

    [Fact]
    public async Task ReconcilingMovesOrphanFilesAsideDropsRowsWithoutFilesAndDeletesSpooledUploads()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "happy", ("kept.png", TestImages.Blocks(1)), ("lost.png", TestImages.Blocks(2)));
        var paths = _app.Service<StoragePaths>();
        var lost = (await DataSets.GetPhotoAsync(report.Files[1].PhotoId!.Value))!;
        File.Delete(paths.PhotoFile(lost));
        var stray = Path.Combine(paths.ClassFolder(id, "sad"), "stray.jpg");
        await File.WriteAllBytesAsync(stray, TestImages.Blocks(3, format: SKEncodedImageFormat.Jpeg));
        var halfUpload = Path.Combine(paths.Incoming(id), "crashed.part");
        await File.WriteAllBytesAsync(halfUpload, [1, 2, 3]);

        var result = await _app.Service<StorageReconciler>().ReconcileAsync();

        Assert.Equal([stray], result.OrphanFilesMoved);
        Assert.Single(result.RowsWithoutFilesRemoved);
        Assert.Null(await DataSets.GetPhotoAsync(lost.Id));
        var kept = Directory.EnumerateFiles(paths.LostAndFound, "*", SearchOption.AllDirectories).Select(Path.GetFileName);
        Assert.Equal(["stray.jpg"], kept);
        // A spooled upload is nobody's photo: deleted, not kept.
        Assert.Equal([halfUpload], result.LeftoversRemoved);
        Assert.False(File.Exists(halfUpload));
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    /// <summary>A stop between a move's file and its row leaves the file in the other class's folder or the trash: it goes back where the row says.</summary>
    [Fact]
    public async Task AMoveCutOffBeforeItsRowCommittedIsUndoneNotLost()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "happy", ("moved.png", TestImages.Blocks(1)), ("trashed.png", TestImages.Blocks(2)), ("kept.png", TestImages.Blocks(3)));
        var paths = _app.Service<StoragePaths>();
        var moved = (await DataSets.GetPhotoAsync(report.Files[0].PhotoId!.Value))!;
        var trashed = (await DataSets.GetPhotoAsync(report.Files[1].PhotoId!.Value))!;
        // What RelocateAsync had done when the process died: the files moved, the rows not yet saved.
        var movedTo = paths.PhotoFile(id, "sad", moved.StoredName, trashed: false);
        var trashedTo = paths.PhotoFile(id, "happy", trashed.StoredName, trashed: true);
        Directory.CreateDirectory(Path.GetDirectoryName(movedTo)!);
        Directory.CreateDirectory(Path.GetDirectoryName(trashedTo)!);
        File.Move(paths.PhotoFile(moved), movedTo);
        File.Move(paths.PhotoFile(trashed), trashedTo);

        var result = await _app.Service<StorageReconciler>().ReconcileAsync();

        Assert.Equal(new[] { movedTo, trashedTo }.Order(StringComparer.Ordinal), result.FilesPutBack.Order(StringComparer.Ordinal));
        Assert.Empty(result.RowsWithoutFilesRemoved);
        Assert.Empty(result.OrphanFilesMoved);
        foreach (var photo in new[] { moved, trashed })
        {
            var now = (await DataSets.GetPhotoAsync(photo.Id))!;
            Assert.Equal("happy", now.ClassName);
            Assert.Null(now.TrashedAt);
            Assert.True(File.Exists(paths.PhotoFile(now)));
        }
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    /// <summary>
    /// A data directory that is not the database's (a fresh one, a mount not up yet, an exported
    /// connection string pointing elsewhere): tidying would drop every photo row, so it touches nothing.
    /// </summary>
    [Fact]
    public async Task ADataDirectoryWithNoneOfTheDatabasesFoldersIsNotTidied()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "happy", ("a.png", TestImages.Blocks(1)), ("b.png", TestImages.Blocks(2)));
        var paths = _app.Service<StoragePaths>();
        var away = paths.DataSetsRoot + ".away";
        Directory.Move(paths.DataSetsRoot, away);

        var result = await _app.Service<StorageReconciler>().ReconcileAsync();

        Assert.Contains("not one of their folders is in", result.Refused, StringComparison.Ordinal);
        Assert.Empty(result.RowsWithoutFilesRemoved);
        Directory.Move(away, paths.DataSetsRoot);
        foreach (var file in report.Files)
            Assert.NotNull(await DataSets.GetPhotoAsync(file.PhotoId!.Value));
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task AScanFindsTheSamePhotoInBothClassesNearDuplicatesAndBrokenFiles()
    {
        var id = await _app.CreateDataSetAsync();
        var original = TestImages.Blocks(21, 200, 200);
        var report = await Multipart.UploadAsync(_client, id, "happy",
            ("original.png", original),
            ("resized.jpg", Reencode(original, 150, SKEncodedImageFormat.Jpeg)),
            ("other.png", TestImages.Blocks(22, 200, 200)),
            ("breaks.png", TestImages.Blocks(23, 200, 200)));
        await Multipart.UploadAsync(_client, id, "sad", ("copy.webp", Reencode(original, 180, SKEncodedImageFormat.Webp)), ("named.gif", TestImages.Blocks(24)));
        var broken = (await DataSets.GetPhotoAsync(report.Files[3].PhotoId!.Value))!;
        await File.WriteAllBytesAsync(_app.Service<StoragePaths>().PhotoFile(broken), [0xFF, 0xD8, 0xFF, 0xE0, 0, 0]);

        var findings = await _app.Service<DataSetScanner>().ScanAsync(id);

        string[] Named(FindingKind kind) => [.. findings.Where(f => f.Kind == kind).Select(f => f.Photo.OriginalName).Order(StringComparer.Ordinal)];
        Assert.Equal(["breaks.png"], Named(FindingKind.Unusable));
        Assert.Equal(["copy.webp", "copy.webp", "original.png", "resized.jpg"], Named(FindingKind.InBothClasses));
        Assert.Equal(["resized.jpg"], Named(FindingKind.NearDuplicate));
        Assert.Equal(["named.gif"], Named(FindingKind.LyingExtension));
        Assert.DoesNotContain(findings, f => f.Photo.OriginalName == "other.png");
        // The verdict is kept: the broken photo no longer counts as usable; what the scan could not read keeps its size and hash.
        var brokenNow = (await DataSets.GetPhotoAsync(broken.Id))!;
        Assert.Equal((PhotoStatus.Rejected, broken.Width, broken.Height, broken.PerceptualHash), (brokenNow.Status, brokenNow.Width, brokenNow.Height, brokenNow.PerceptualHash));
        Assert.Equal(5, (await DataSets.GetAsync(id))!.PhotoCount);
    }

    /// <summary>
    /// A phone's portrait uploaded before photos were turned upright kept the size and perceptual hash
    /// of its stored pixels, on their side, so an upright copy of it in the other class went unseen. A
    /// scan reads every photo again: it records the upright size and hash, finds the pair, and the
    /// data set's health (worked out before, and kept while no photo comes or goes) says so too.
    /// </summary>
    [Fact]
    public async Task AScanRecordsAPhotosUprightSizeAndHashSoAnUprightCopyIsFound()
    {
        var id = await _app.CreateDataSetAsync();
        var upright = TestImages.Blocks(41, 120, 200, SKEncodedImageFormat.Jpeg);
        // The same picture on its side, as a phone stores a portrait: orientation 6 turns it back.
        var onItsSide = TestImages.Draw(200, 120, canvas =>
        {
            using var picture = SKImage.FromEncodedData(upright);
            canvas.Translate(0, 120);
            canvas.RotateDegrees(-90);
            canvas.DrawImage(picture, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        }, SKEncodedImageFormat.Jpeg);
        var phone = await Multipart.UploadAsync(_client, id, "happy", ("portrait.jpg", Training.Data.ImageOrientationTests.WithExifOrientation(onItsSide, 6)));
        await Multipart.UploadAsync(_client, id, "sad", ("copy.jpg", upright));
        var portraitId = phone.Files[0].PhotoId!.Value;
        var uprightHash = (await DataSets.GetPhotoAsync(portraitId))!.PerceptualHash;
        // Its row as an upload made it before photos were turned.
        var sideways = unchecked((long)PerceptualHash.Compute(ImageDecoder.Decode(onItsSide, PhotoImporter.InspectSize)));
        Assert.True(PerceptualHash.Distance(unchecked((ulong)sideways), unchecked((ulong)uprightHash)) > PerceptualHash.NearDuplicateDistance, "the picture on its side hashes as another picture");
        async Task RecordAsync(int width, int height, long hash)
        {
            await using var context = await _app.Service<IDbContextFactory<HappySadDbContext>>().CreateDbContextAsync();
            await context.Photos.Where(p => p.Id == portraitId)
                .ExecuteUpdateAsync(u => u.SetProperty(p => p.Width, width).SetProperty(p => p.Height, height).SetProperty(p => p.PerceptualHash, hash));
        }
        await RecordAsync(200, 120, sideways);
        var scanner = _app.Service<DataSetScanner>();
        Assert.Empty((await scanner.HealthAsync(id)).Conflicts);

        var findings = await scanner.ScanAsync(id);

        Assert.Equal(["copy.jpg", "portrait.jpg"], findings.Where(f => f.Kind == FindingKind.InBothClasses).Select(f => f.Photo.OriginalName).Order(StringComparer.Ordinal));
        var portrait = (await DataSets.GetPhotoAsync(portraitId))!;
        Assert.Equal((120, 200, uprightHash, PhotoStatus.Ok), (portrait.Width, portrait.Height, portrait.PerceptualHash, portrait.Status));
        Assert.Equal(["copy.jpg", "portrait.jpg"], Assert.Single((await scanner.HealthAsync(id)).Conflicts).Select(p => p.OriginalName).Order(StringComparer.Ordinal));

        // A hash written where this node did not see it (another web node's scan) is seen all the same.
        await RecordAsync(200, 120, sideways);
        Assert.Empty((await scanner.HealthAsync(id)).Conflicts);
    }

    /// <summary>
    /// A photo moved to the other class or trashed while a scan reads the data set is looked for where
    /// it was; the scan must not record it as missing, nor report it.
    /// </summary>
    [Fact]
    public async Task APhotoMovedOrTrashedDuringAScanIsNotRecordedAsMissing()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "happy", [.. Enumerable.Range(0, 12).Select(i => ($"p{i}.png", TestImages.Blocks(300 + i)))]);
        var ids = report.Files.Select(f => f.PhotoId!.Value).Order().ToList();
        var (moved, trashed) = (ids[^1], ids[^2]);
        var once = 0;
        using var relocated = new ManualResetEventSlim();
        // On the first photo scanned: the last two, which it reads last, leave the places it read them
        // from; the scan's other threads wait for that after their first photo.
        var progress = new Synchronous<(int Done, int Total)>(_ =>
        {
            if (Interlocked.Exchange(ref once, 1) == 0)
            {
                DataSets.MoveToClassAsync(moved, "sad").GetAwaiter().GetResult();
                DataSets.TrashAsync([trashed]).GetAwaiter().GetResult();
                relocated.Set();
            }
            Assert.True(relocated.Wait(TimeSpan.FromSeconds(30)));
        });

        var findings = await _app.Service<DataSetScanner>().ScanAsync(id, progress);

        Assert.DoesNotContain(findings, f => f.Kind == FindingKind.Unusable);
        var movedNow = (await DataSets.GetPhotoAsync(moved))!;
        var trashedNow = (await DataSets.GetPhotoAsync(trashed))!;
        Assert.Equal(("sad", PhotoStatus.Ok), (movedNow.ClassName, movedNow.Status));
        Assert.Equal(PhotoStatus.Ok, trashedNow.Status);
        Assert.NotNull(trashedNow.TrashedAt);
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    /// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread, as the scan's loop calls it.</summary>
    sealed class Synchronous<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    static byte[] Reencode(byte[] image, int side, SKEncodedImageFormat format)
    {
        using var source = SKBitmap.Decode(image);
        using var resized = source.Resize(new SKImageInfo(side, side), new SKSamplingOptions(SKFilterMode.Linear));
        return TestImages.Encode(resized, format, 85);
    }

    public void Dispose()
    {
        _client.Dispose();
        _app.Dispose();
        GC.SuppressFinalize(this);
    }
}
