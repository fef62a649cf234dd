using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using HappySad.Tests.Support;
using HappySad.Web.Data;
using HappySad.Web.DataSets;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace HappySad.Tests.Web.DataSets;

/// <summary>The hostile corpus through the real upload endpoint: every file gets its answer and the server stays whole.</summary>
public sealed class HostileUploadTests : IDisposable
{
    readonly HappySadAppFactory _app = new(new Dictionary<string, string>
    {
        ["UploadLimits:MaxPartsPerRequest"] = "50",
        ["UploadLimits:MaxConcurrentDecodes"] = "2",
    });

    readonly HttpClient _client;

    public HostileUploadTests() => _client = _app.CreateClient();

    [Fact]
    public async Task TruncatedProgressiveAndLyingJpegsAreRejectedAsTruncated()
    {
        var id = await _app.CreateDataSetAsync();
        var progressive = HostileFiles.ProgressiveJpeg;

        var report = await Multipart.UploadAsync(_client, id, "happy",
            ("cut-progressive.jpg", progressive[..(progressive.Length * 2 / 3)]),
            ("liar.jpg", HostileFiles.JpegClaiming(6000, 6000)),
            ("whole-progressive.jpg", progressive));

        Assert.Equal([UploadStatus.Rejected, UploadStatus.Rejected, UploadStatus.Accepted], report.Files.Select(f => f.Status));
        Assert.All(report.Files.Take(2), f => Assert.Contains("truncated", f.Reason, StringComparison.Ordinal));
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task BombsInEveryFormatAreRefusedFromTheirHeaders()
    {
        var id = await _app.CreateDataSetAsync();

        var report = await Multipart.UploadAsync(_client, id, "sad",
            ("bomb.png", HostileFiles.PngBomb(9000, 9000)),
            ("bomb.gif", HostileFiles.Gif(100, 100, 7000, 7000)),
            ("screen.gif", HostileFiles.Gif(7000, 7000, 64, 64)),
            ("bomb.webp", HostileFiles.WebPClaiming(16_000, 16_000)),
            ("bomb.jpg", HostileFiles.JpegClaiming(60_000, 60_000)));

        Assert.All(report.Files, f =>
        {
            Assert.Equal(UploadStatus.Rejected, f.Status);
            Assert.Contains("megapixel limit", f.Reason, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task ADuplicateIsAnsweredFromItsHashWithoutDecoding()
    {
        var id = await _app.CreateDataSetAsync();
        // A row for bytes that cannot be decoded: only a hash check before decoding calls them a duplicate.
        var undecodable = HostileFiles.JpegClaiming(6000, 6000);
        var contexts = _app.Service<IDbContextFactory<HappySadDbContext>>();
        await using (var context = await contexts.CreateDbContextAsync())
        {
            context.Photos.Add(new Photo
            {
                DataSetId = id, ClassName = "happy", StoredName = "x.jpg", OriginalName = "earlier.jpg", Format = "JPEG",
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(undecodable)), Width = 1, Height = 1, ByteSize = undecodable.Length,
                Status = PhotoStatus.Ok, AddedAt = DateTimeOffset.UtcNow,
            });
            await context.SaveChangesAsync();
        }

        var report = await Multipart.UploadAsync(_client, id, "happy", ("again.jpg", undecodable));

        var outcome = Assert.Single(report.Files);
        Assert.Equal(UploadStatus.Duplicate, outcome.Status);
        Assert.Contains("earlier.jpg", outcome.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(25_000)]
    [InlineData(1_000_000)]
    public async Task AZipClaimingTooManyEntriesIsRefusedFromItsEndRecord(long entries)
    {
        var id = await _app.CreateDataSetAsync();

        var report = await Multipart.UploadAsync(_client, id, "happy", ("many.zip", HostileFiles.ZipClaimingEntries(entries)));

        var outcome = Assert.Single(report.Files);
        Assert.Equal(UploadStatus.Rejected, outcome.Status);
        Assert.Equal($"zip holds {entries:N0} entries, over the 20,000 entry limit", outcome.Reason);
    }

    [Fact]
    public async Task ZipEntriesThatClimbLinkOrNestAreSkippedWithReasons()
    {
        var id = await _app.CreateDataSetAsync();
        var zip = HostileFiles.Zip(
            ("../../escape.png", TestImages.Blocks(21), null),
            ("/etc/absolute.png", TestImages.Blocks(22), null),
            ("happy/link.png", "/etc/passwd"u8.ToArray(), 0xA1FF),
            ("happy/inner.zip", HostileFiles.Zip(("happy/deep.png", TestImages.Blocks(23), null)), null),
            ("happy/fine.png", TestImages.Blocks(24), null));

        var report = await Multipart.UploadAsync(_client, id, null, ("mixed.zip", zip));

        Assert.Equal(5, report.Files.Count);
        Assert.Contains("'..'", report.Files[0].Reason, StringComparison.Ordinal);
        Assert.Contains("absolute path", report.Files[1].Reason, StringComparison.Ordinal);
        Assert.Contains("symbolic link", report.Files[2].Reason, StringComparison.Ordinal);
        Assert.Contains("nested zips are not unpacked", report.Files[3].Reason, StringComparison.Ordinal);
        Assert.Equal(UploadStatus.Accepted, report.Files[4].Status);
        Assert.Equal(1, report.Accepted);
        await _app.AssertFilesAndRowsAgreeAsync();
    }

    [Fact]
    public async Task ARequestWithMorePartsThanTheCapIsRefusedWith413()
    {
        var id = await _app.CreateDataSetAsync();
        var parts = Enumerable.Range(0, 60).Select(i => ($"{i}.txt", new[] { (byte)'x' })).ToArray();
        using var content = Multipart.Files(parts);

        using var response = await _client.PostAsync(new Uri($"/api/datasets/{id}/photos?class=happy", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Contains("more than 50 parts", problem!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BidiOverridesAndControlCharactersAreStrippedFromNames()
    {
        var dataSet = await _app.Service<DataSetService>().CreateAsync("holiday\u202E\u0007 photos\u2066");
        var report = await Multipart.UploadAsync(_client, dataSet.Id, "happy", ("rtl\u202Egpj.exe", TestImages.Blocks(31, format: SKEncodedImageFormat.Jpeg)));

        Assert.Equal("holiday photos", dataSet.Name);
        var outcome = Assert.Single(report.Files);
        Assert.Equal("rtlgpj.exe", outcome.Name);
        var photo = (await _app.Service<DataSetService>().GetPhotoAsync(outcome.PhotoId!.Value))!;
        Assert.Equal("rtlgpj.exe", photo.OriginalName);
    }

    [Fact]
    public async Task EightConcurrentDecompressionBombsKeepPeakMemoryGrowthUnderOneGigabyte()
    {
        var id = await _app.CreateDataSetAsync();
        // 6300x6300 is 39.7 MP, inside the 40 MP budget: each decodes at 160 MB, so only the decode gate keeps them from adding up.
        var bombs = Enumerable.Range(1, 8).Select(seed => HostileFiles.PngBomb(6300, 6300, seed)).ToArray();
        Assert.All(bombs, b => Assert.True(b.Length < 20_000, $"a bomb is {b.Length} bytes"));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var process = Process.GetCurrentProcess();
        var baseline = process.WorkingSet64;
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                await Task.Delay(20);
            }
        });

        var reports = await Task.WhenAll(bombs.Select((bomb, i) => Multipart.UploadAsync(_client, id, "sad", ($"bomb{i}.png", bomb))));
        await sampling.CancelAsync();
        await sampler;

        Assert.All(reports, r => Assert.Equal(UploadStatus.Accepted, Assert.Single(r.Files).Status));
        var growth = peak - baseline;
        Assert.True(growth < 1024L * 1024 * 1024, $"working set grew by {growth / (1024 * 1024)} MB");
    }

    public void Dispose()
    {
        _client.Dispose();
        _app.Dispose();
    }
}
