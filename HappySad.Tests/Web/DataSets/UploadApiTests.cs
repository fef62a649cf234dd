using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using HappySad.Tests.Support;
using HappySad.Web.DataSets;
using HappySad.Web.Storage;
using SkiaSharp;

namespace HappySad.Tests.Web.DataSets;

/// <summary>Every test runs on both providers: SQLite (<see cref="OnSqlite"/>) and PostgreSQL (<see cref="OnPostgres"/>).</summary>
public abstract class UploadApiTests : IDisposable
{
    readonly TestDatabase _database;
    readonly HappySadAppFactory _app;
    readonly HttpClient _client;

    UploadApiTests(TestDatabase database)
    {
        _database = database;
        _app = new(database: database);
        _client = _app.CreateClient();
    }

    public sealed class OnSqlite() : UploadApiTests(TestDatabase.Sqlite);

    [Collection(PostgresServer.Name)]
    public sealed class OnPostgres(PostgresServer server) : UploadApiTests(server.CreateDatabase());

    [Fact]
    public async Task GoodFilesAreStoredInTheChosenClassWithTheirDetails()
    {
        var id = await _app.CreateDataSetAsync();
        var png = TestImages.Blocks(1, 120, 80);
        var report = await Multipart.UploadAsync(_client, id, "sad",
            ("one.png", png), ("two.jpg", TestImages.Blocks(2, format: SKEncodedImageFormat.Jpeg)), ("three.bmp", TestImages.Bmp(40, 40, SKColors.Teal)));

        Assert.Equal(3, report.Accepted);
        Assert.All(report.Files, f => Assert.Equal("sad", f.ClassName));
        var photo = (await _app.Service<DataSetService>().GetPhotoAsync(report.Files[0].PhotoId!.Value))!;
        Assert.Equal(("one.png", 120, 80, "PNG", png.Length), (photo.OriginalName, photo.Width, photo.Height, photo.Format, photo.ByteSize));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(png)), photo.Sha256);
        Assert.Equal(png, await File.ReadAllBytesAsync(_app.Service<StoragePaths>().PhotoFile(photo)));
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task ALyingExtensionIsAcceptedAndStoredUnderTheRealFormat()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "happy", ("actually-png.jpg", TestImages.Blocks(3)));

        var outcome = Assert.Single(report.Files);
        Assert.Equal(UploadStatus.Accepted, outcome.Status);
        var photo = (await _app.Service<DataSetService>().GetPhotoAsync(outcome.PhotoId!.Value))!;
        Assert.Equal("PNG", photo.Format);
        Assert.EndsWith(".png", photo.StoredName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SvgZeroByteAndTruncatedFilesAreRejectedWithTheirReasons()
    {
        var id = await _app.CreateDataSetAsync();
        var jpeg = TestImages.Blocks(4, 400, 400, SKEncodedImageFormat.Jpeg);
        var report = await Multipart.UploadAsync(_client, id, "happy",
            ("smile.jpg", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"u8.ToArray()),
            ("empty.png", []),
            ("cut.jpg", jpeg[..(jpeg.Length / 2)]));

        Assert.Equal(0, report.Accepted);
        Assert.Contains("SVG", report.Files[0].Reason, StringComparison.Ordinal);
        Assert.Contains("empty", report.Files[1].Reason, StringComparison.Ordinal);
        Assert.Contains("truncated", report.Files[2].Reason, StringComparison.Ordinal);
        Assert.All(report.Files, f => Assert.Equal(UploadStatus.Rejected, f.Status));
        await _app.AssertFilesAndRowsAgreeAsync();
        Assert.Empty(Directory.EnumerateFiles(_app.Service<StoragePaths>().Incoming(id)));
    }

    [Fact]
    public async Task TheSameBytesTwiceAreADuplicateEvenInTheOtherClass()
    {
        var id = await _app.CreateDataSetAsync();
        var png = TestImages.Blocks(5);
        await Multipart.UploadAsync(_client, id, "happy", ("first.png", png));
        var report = await Multipart.UploadAsync(_client, id, "sad", ("again.png", png), ("new.png", TestImages.Blocks(6)));

        Assert.Equal(UploadStatus.Duplicate, report.Files[0].Status);
        Assert.Contains("first.png", report.Files[0].Reason, StringComparison.Ordinal);
        Assert.Contains("happy", report.Files[0].Reason, StringComparison.Ordinal);
        Assert.Equal(UploadStatus.Accepted, report.Files[1].Status);
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task AZipIsSortedByItsClassFoldersAndHostilePathsAreRefused()
    {
        var id = await _app.CreateDataSetAsync();
        var zip = Zip(
            ("happy/a.png", TestImages.Blocks(7)),
            ("photos/sad/b.png", TestImages.Blocks(8)),
            ("../../escape.png", TestImages.Blocks(9)),
            ("/etc/absolute.png", TestImages.Blocks(10)),
            ("__MACOSX/happy/._a.png", [1, 2, 3]),
            ("notes.txt", "hello"u8.ToArray()));

        var report = await Multipart.UploadAsync(_client, id, null, ("photos.zip", zip));

        Assert.Equal(["a.png", "b.png"], report.Files.Where(f => f.Status == UploadStatus.Accepted).Select(f => f.Name));
        Assert.Equal(["happy", "sad"], report.Files.Where(f => f.Status == UploadStatus.Accepted).Select(f => f.ClassName));
        Assert.Contains(report.Files, f => f.Name == "escape.png" && f.Reason!.Contains("..", StringComparison.Ordinal));
        Assert.Contains(report.Files, f => f.Name == "absolute.png" && f.Reason!.Contains("absolute", StringComparison.Ordinal));
        Assert.Contains(report.Files, f => f.Name == "notes.txt" && f.Reason!.Contains("no class", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Files, f => f.Name.Contains("._a", StringComparison.Ordinal));
        // Nothing landed outside the data set folder.
        Assert.False(File.Exists(Path.Combine(_app.DataDirectory, "escape.png")));
        Assert.False(File.Exists(Path.Combine(_app.DataDirectory, "datasets", "escape.png")));
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task SizeLimitsAreNamedInTheRefusal()
    {
        using var app = new HappySadAppFactory(new Dictionary<string, string>
        {
            ["UploadLimits:MaxImageBytes"] = "1000",
            ["UploadLimits:MaxZipEntries"] = "2",
        }, database: _database);
        var client = app.CreateClient();
        var id = await app.CreateDataSetAsync();
        var big = TestImages.Blocks(11, 600, 600);
        Assert.True(big.Length > 1000);

        var report = await Multipart.UploadAsync(client, id, "happy",
            ("big.png", big),
            ("three.zip", Zip(("happy/1.png", TestImages.Blocks(12)), ("happy/2.png", TestImages.Blocks(13)), ("happy/3.png", TestImages.Blocks(14)))));

        Assert.Equal(UploadStatus.Rejected, report.Files[0].Status);
        Assert.Contains("over the 1000 bytes limit", report.Files[0].Reason, StringComparison.Ordinal);
        Assert.Equal("three.zip", report.Files[1].Name);
        Assert.Contains("2 entry limit", report.Files[1].Reason, StringComparison.Ordinal);
        await app.AssertFilesAndRowsAgreeAsync();
    }

    /// <summary>
    /// A request refused part way names what it kept by part: two photos of one name from two folders are
    /// told apart, and a zip's entries share the zip's part.
    /// </summary>
    [Fact]
    public async Task ARequestRefusedPartWayNamesWhatItKeptByPart()
    {
        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["UploadLimits:MaxPartsPerRequest"] = "3" }, database: _database);
        var client = app.CreateClient();
        var id = await app.CreateDataSetAsync();
        using var content = Multipart.Files(
            ("happy/photo.png", TestImages.Blocks(21)),
            ("sad/photo.png", TestImages.Blocks(22)),
            ("more.zip", Zip(("happy/a.png", TestImages.Blocks(23)), ("sad/b.png", TestImages.Blocks(24)))),
            ("happy/late.png", TestImages.Blocks(25)));

        using var response = await client.PostAsync(new Uri($"/api/datasets/{id}/photos", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var kept = problem.RootElement.GetProperty("files").EnumerateArray()
            .Select(f => (f.GetProperty("name").GetString(), f.GetProperty("class_name").GetString(), f.GetProperty("index").GetInt32())).ToList();
        Assert.Equal([("photo.png", "happy", 0), ("photo.png", "sad", 1), ("a.png", "happy", 2), ("b.png", "sad", 2)], kept);
        await app.AssertFilesAndRowsAgreeAsync();
    }

    /// <summary>A zip of files that inflate far past their size (a bomb) is refused from its directory, before any of it is inflated.</summary>
    [Fact]
    public async Task AZipThatInflatesPastTheLimitIsRefusedBeforeAnyOfItIsRead()
    {
        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["UploadLimits:MaxZipExpandedBytes"] = "2000000" }, database: _database);
        var client = app.CreateClient();
        var id = await app.CreateDataSetAsync();
        var zeros = new byte[900_000];

        var report = await Multipart.UploadAsync(client, id, "happy",
            ("bomb.zip", Zip(("happy/1.png", zeros), ("happy/2.png", zeros), ("happy/3.png", zeros))),
            ("fine.zip", Zip(("happy/1.png", TestImages.Blocks(15)), ("happy/2.png", TestImages.Blocks(16)))));

        var bomb = Assert.Single(report.Files, f => f.Name == "bomb.zip");
        Assert.Equal(UploadStatus.Rejected, bomb.Status);
        Assert.Contains("zip inflates to 2.6 MB, over the 1.9 MB limit", bomb.Reason, StringComparison.Ordinal);
        Assert.Equal(2, report.Files.Count(f => f.Status == UploadStatus.Accepted));
        await app.AssertFilesAndRowsAgreeAsync();
    }

    /// <summary>
    /// A zip whose directory understates what its entries inflate to passes the limit on the sum, but
    /// each entry is read no further than its declared size: what is inflated never passes the sum.
    /// </summary>
    [Fact]
    public async Task AZipEntryIsInflatedNoFurtherThanItsDirectorySays()
    {
        using var app = new HappySadAppFactory(database: _database);
        var client = app.CreateClient();
        var id = await app.CreateDataSetAsync();
        var photo = TestImages.Blocks(15);
        var understated = Zip(("happy/1.png", photo));
        // The central directory's uncompressed size of the one entry, 24 bytes into its header.
        var header = understated.AsSpan().IndexOf("PK\u0001\u0002"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(understated.AsSpan(header + 24), (uint)(photo.Length / 2));

        var report = await Multipart.UploadAsync(client, id, "happy", ("understated.zip", understated), ("honest.zip", Zip(("happy/1.png", photo))));

        var cut = Assert.Single(report.Files, f => f.Status == UploadStatus.Rejected);
        Assert.Equal("1.png", cut.Name);
        Assert.StartsWith("PNG data is truncated or corrupt", cut.Reason, StringComparison.Ordinal);
        Assert.Single(report.Files, f => f.Status == UploadStatus.Accepted);
        await app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task ImagesOverTheMegapixelLimitAreRefusedBeforeDecoding()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "happy", ("bomb.png", TestImages.PngHeaderClaiming(50_000, 50_000)));

        Assert.Equal(UploadStatus.Rejected, report.Files[0].Status);
        Assert.Contains("megapixel limit", report.Files[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentUploadsToOneDataSetKeepFilesAndRowsInAgreement()
    {
        var id = await _app.CreateDataSetAsync();
        var shared = TestImages.Blocks(100);
        // Eight clients at once, each with its own photos plus one photo every client sends.
        var uploads = Enumerable.Range(0, 8).Select(client => Task.Run(() => Multipart.UploadAsync(_client, id, client % 2 == 0 ? "happy" : "sad",
            [("shared.png", shared), .. Enumerable.Range(0, 4).Select(i => ($"c{client}-{i}.png", TestImages.Blocks(1000 + (client * 10) + i)))])));
        var reports = await Task.WhenAll(uploads);

        var outcomes = reports.SelectMany(r => r.Files).ToList();
        Assert.Equal(33, outcomes.Count(o => o.Status == UploadStatus.Accepted));
        Assert.Equal(7, outcomes.Count(o => o.Status == UploadStatus.Duplicate));
        var summary = (await _app.Service<DataSetService>().GetAsync(id))!;
        Assert.Equal(33, summary.PhotoCount);
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task UnknownDataSetsAndPhotosAre404AndABadBodyIs400()
    {
        using var upload = Multipart.Files(("a.png", TestImages.Blocks(1)));
        using var missing = await _client.PostAsync(new Uri("/api/datasets/999/photos", UriKind.Relative), upload);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);

        var id = await _app.CreateDataSetAsync();
        using var json = await _client.PostAsJsonAsync(new Uri($"/api/datasets/{id}/photos", UriKind.Relative), new { files = "nope" });
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);

        using var thumbnail = await _client.GetAsync(new Uri("/api/photos/12345/thumbnail", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, thumbnail.StatusCode);
    }

    [Fact]
    public async Task ThumbnailsAreReEncodedJpegsAndImagesKeepTheirOwnType()
    {
        var id = await _app.CreateDataSetAsync();
        var report = await Multipart.UploadAsync(_client, id, "happy", ("wide.png", TestImages.Solid(640, 320, SKColors.Red)));
        var photoId = report.Files[0].PhotoId;

        using var thumbnail = await _client.GetAsync(new Uri($"/api/photos/{photoId}/thumbnail", UriKind.Relative));
        Assert.Equal("image/jpeg", thumbnail.Content.Headers.ContentType?.MediaType);
        using var bitmap = SKBitmap.Decode(await thumbnail.Content.ReadAsByteArrayAsync());
        Assert.Equal((160, 80), (bitmap.Width, bitmap.Height));
        var pixel = bitmap.GetPixel(80, 40);
        Assert.True(pixel.Red > 240 && pixel.Green < 20 && pixel.Blue < 20, $"expected red, got {pixel}");

        using var image = await _client.GetAsync(new Uri($"/api/photos/{photoId}/image", UriKind.Relative));
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", image.Headers.GetValues("X-Content-Type-Options").Single());
    }

    /// <summary>
    /// A phone's portrait (stored on its side, EXIF orientation 6) gets an upright thumbnail, and a
    /// thumbnail cached before thumbnails were turned is replaced, not shown.
    /// </summary>
    [Fact]
    public async Task AThumbnailIsUprightAndOneMadeBeforeThatIsMadeAgain()
    {
        var id = await _app.CreateDataSetAsync();
        var stored = TestImages.Draw(200, 100, canvas =>
        {
            canvas.Clear(SKColors.Blue);
            canvas.DrawRect(0, 0, 100, 100, new SKPaint { Color = SKColors.Red });
        }, SKEncodedImageFormat.Jpeg);
        var report = await Multipart.UploadAsync(_client, id, "happy", ("portrait.jpg", Training.Data.ImageOrientationTests.WithExifOrientation(stored, 6)));
        var photo = (await _app.Service<DataSetService>().GetPhotoAsync(report.Files[0].PhotoId!.Value))!;
        var paths = _app.Service<StoragePaths>();
        Directory.CreateDirectory(paths.Thumbnails(id));
        await File.WriteAllBytesAsync(paths.UnversionedThumbnailFile(photo), TestImages.Solid(160, 80, SKColors.Green, SKEncodedImageFormat.Jpeg));

        using var thumbnail = await _client.GetAsync(new Uri($"/api/photos/{photo.Id}/thumbnail", UriKind.Relative));

        using var bitmap = SKBitmap.Decode(await thumbnail.Content.ReadAsByteArrayAsync());
        Assert.Equal((80, 160), (bitmap.Width, bitmap.Height));
        // Stored red on the left: turned a quarter clockwise, red is on top.
        Assert.True(bitmap.GetPixel(40, 40).Red > 200 && bitmap.GetPixel(40, 120).Blue > 200, $"expected red over blue, got {bitmap.GetPixel(40, 40)} over {bitmap.GetPixel(40, 120)}");
        Assert.False(File.Exists(paths.UnversionedThumbnailFile(photo)));
    }

    static byte[] Zip(params (string Name, byte[] Bytes)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                using var stream = archive.CreateEntry(name).Open();
                stream.Write(bytes);
            }
        }
        return buffer.ToArray();
    }

    public void Dispose()
    {
        _client.Dispose();
        _app.Dispose();
        GC.SuppressFinalize(this);
    }
}
