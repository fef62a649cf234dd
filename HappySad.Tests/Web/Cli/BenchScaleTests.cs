using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using HappySad.Tests.EndToEnd;
using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Web.Cli.Commands;

namespace HappySad.Tests.Web.Cli;

/// <summary>
/// The benches as a user runs them. They start the app and training processes and time them, so they
/// run with nothing else beside them, like the browser tests that time the app: beside the unit
/// tests the 2,000-photo run took 60 to 100 s in CI instead of about 45.
/// </summary>
[Collection(EndToEndTests.Name)]
public class BenchScaleTests
{
    [Fact]
    public void TheSameSeedMakesTheSameDistinctPhotosAndBrokenFiles()
    {
        using var first = new TempDirectory();
        using var second = new TempDirectory();

        var made = ScalePhotos.Generate(SharedPhotos.Root, first.Path, files: 30, seed: 5, maxSide: 240);
        ScalePhotos.Generate(SharedPhotos.Root, second.Path, files: 30, seed: 5, maxSide: 240);

        var files = Directory.EnumerateFiles(first.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(first.Path, f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, Directory.EnumerateFiles(second.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(second.Path, f)).Order(StringComparer.Ordinal));
        Assert.All(files, f => Assert.Equal(File.ReadAllBytes(Path.Combine(first.Path, f)), File.ReadAllBytes(Path.Combine(second.Path, f))));
        Assert.Equal((30, 27, 3), (files.Count, made.Photos, made.Broken));
        Assert.Equal(30, files.Select(f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(first.Path, f))))).Distinct().Count());
        Assert.Equal(["happy", "sad"], files.Select(f => f.Split('/')[0]).Distinct());
        Assert.All(made.Formats.Values, count => Assert.True(count > 0, "JPEG, PNG and WebP are all made"));
    }

    /// <summary>
    /// The scale bench end to end at 2,000 photos, as a user runs it (its own process, which starts
    /// the app as another): every good photo imported by both paths, the broken ones refused with
    /// their reasons and found by the scan, every timing measured, every recorded run listed.
    /// Photos are kept small (at most 320 px) so the whole run fits in about a minute on 2 cores.
    /// </summary>
    [Fact]
    public async Task AScaleRunOfTwoThousandPhotosImportsEveryGoodPhotoTwiceAndTimesEveryPage()
    {
        var (code, output, error) = await BenchAsync("bench", "--scale", "2000", "--runs", "200", "--samples", "5", "--max-side", "320", "--batches", "9", "--data", SharedPhotos.Root, "--json");

        Assert.True(code == 0, error);
        using var document = JsonDocument.Parse(output);
        var report = document.RootElement;
        var generation = report.GetProperty("generation");
        Assert.Equal((2000, 1996, 4), (generation.GetProperty("files").GetInt32(), generation.GetProperty("photos").GetInt32(), generation.GetProperty("broken").GetInt32()));

        string[] broken = ["broken-0000-truncated.jpg", "broken-0001-noise.jpg", "broken-0002-notes.png", "broken-0003-truncated.jpg"];
        foreach (var import in new[] { report.GetProperty("cli_import"), report.GetProperty("api_import") })
        {
            Assert.Equal((1996, 4, 0), (import.GetProperty("accepted").GetInt32(), import.GetProperty("rejected").GetInt32(), import.GetProperty("duplicates").GetInt32()));
            Assert.True(import.GetProperty("photos_per_second").GetDouble() > 0);
            var rejected = import.GetProperty("rejected_files").EnumerateArray().ToList();
            Assert.Equal(broken, rejected.Select(r => r.GetProperty("name").GetString()));
            Assert.Contains("truncated", rejected[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Equal("not a supported image (JPEG, PNG, BMP, GIF or WebP)", rejected[1].GetProperty("reason").GetString());
            Assert.Equal("file is text, not an image", rejected[2].GetProperty("reason").GetString());
        }
        Assert.True(report.GetProperty("api_import").GetProperty("peak_working_set_mb").GetDouble() > 0);

        var scan = report.GetProperty("folder_scan");
        Assert.Equal(1996, scan.GetProperty("usable").GetInt32());
        Assert.Equal(broken, scan.GetProperty("rejected").EnumerateArray().Select(r => r.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(1996, report.GetProperty("data_set_scan").GetProperty("photos").GetInt32());
        Assert.True(report.GetProperty("data_set_scan").GetProperty("seconds").GetDouble() > 0);

        // The first, middle and last grid pages of 48 (the last holds 1996 - 41 * 48 = 28), each thumbnail fetched once.
        Assert.Equal(48 + 48 + 28, report.GetProperty("http").GetProperty("thumbnails_first_view").GetProperty("samples").GetInt32());
        foreach (var group in (string[])["http", "page_data", "runs", "runs_data"])
        {
            foreach (var timing in report.GetProperty(group).EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object))
            {
                var (p50, p95) = (timing.Value.GetProperty("p50_ms").GetDouble(), timing.Value.GetProperty("p95_ms").GetDouble());
                Assert.True(p50 > 0 && p50 <= p95, $"{group}.{timing.Name}: p50 {p50}, p95 {p95}");
            }
        }

        Assert.Equal((200, 200), (report.GetProperty("runs").GetProperty("recorded").GetInt32(), report.GetProperty("runs").GetProperty("listed").GetInt32()));
        Assert.Equal(1996, report.GetProperty("snapshot").GetProperty("photos").GetInt32());

        // Training from the pixel cache on the seed photos and on the 2,000, each in its own process.
        var training = report.GetProperty("training");
        var (small, large) = (training.GetProperty("small"), training.GetProperty("large"));
        Assert.Equal((301, 301), (small.GetProperty("photos").GetInt32(), small.GetProperty("images").GetInt32()));
        Assert.Equal((2000, 1996), (large.GetProperty("photos").GetInt32(), large.GetProperty("images").GetInt32()));
        Assert.Equal(4096 + (2000L * 256 * 256 * 3), large.GetProperty("cache_bytes").GetInt64(), tolerance: 300_000);
        foreach (var measured in new[] { small, large })
        {
            Assert.Equal(9, measured.GetProperty("batches_timed").GetInt32());
            Assert.True(measured.GetProperty("steady_images_per_second").GetDouble() > 0);
            Assert.True(measured.GetProperty("training_peak_working_set_mb").GetDouble() > 100);
            Assert.True(measured.GetProperty("cache_reuse_seconds").GetDouble() < measured.GetProperty("cache_build_seconds").GetDouble(), "reusing a cache costs less than building it");
        }
        Assert.True(training.GetProperty("steady_throughput_ratio").GetDouble() > 0);
    }

    /// <summary>
    /// <c>bench --serve</c> as a user runs it: it starts the real app over a data directory of its
    /// own holding the model file, signs in with a token it made, and every request is answered.
    /// </summary>
    [Fact]
    public async Task ServeStartsTheAppWithTheModelFilesAndMeasuresEach()
    {
        using var models = new TempDirectory();
        var file = Path.Combine(models.Path, "notebook" + HappySad.Training.Persistence.ModelStore.Extension);
        using (var model = HappySad.Training.Models.ModelArchitectures.Create(HappySad.Training.Models.SeedCnn.ArchitectureName, seed: 1))
            HappySad.Training.Persistence.ModelStore.Save(file, model, new HappySad.Training.Persistence.ModelCard { Architecture = HappySad.Training.Models.SeedCnn.ArchitectureName, ClassNames = ["happy", "sad"] });

        var (code, output, error) = await BenchAsync("bench", "--serve", file, "--clients", "1", "2", "--seconds", "1", "--data", SharedPhotos.Root);

        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        var measured = Assert.Single(report.GetProperty("models").EnumerateArray());
        Assert.Equal("file-bench-1-notebook", measured.GetProperty("model").GetString());
        Assert.Equal([1, 2], measured.GetProperty("levels").EnumerateArray().Select(l => l.GetProperty("clients").GetInt32()));
        Assert.All(measured.GetProperty("levels").EnumerateArray(), level =>
        {
            Assert.Equal(0, level.GetProperty("errors").GetInt32());
            Assert.True(level.GetProperty("requests").GetInt32() > 0);
            Assert.True(level.GetProperty("app_processor_ms_per_prediction").GetDouble() > 0);
            Assert.True(level.GetProperty("client_processor_ms_per_prediction").GetDouble() > 0);
        });
        Assert.True(report.GetProperty("app_peak_working_set_mb").GetDouble() > 100);
        Assert.Equal(TurboJpeg.Decoder, report.GetProperty("jpeg_decoder").GetString());

        var (missingCode, _, missingError) = await BenchAsync("bench", "--serve", Path.Combine(models.Path, "nothing.hsmodel"), "--data", SharedPhotos.Root);
        Assert.Equal((2, true), (missingCode, missingError.Contains("no such model file", StringComparison.Ordinal)));
    }

    /// <summary>The built executable (<c>dotnet HappySad.Web.dll</c>), so the app it starts is a real process too.</summary>
    static async Task<(int Code, string Output, string Error)> BenchAsync(params string[] args)
    {
        var dll = AppContext.BaseDirectory.TrimEnd('/').Replace("/HappySad.Tests/bin/", "/HappySad.Web/bin/", StringComparison.Ordinal) + "/HappySad.Web.dll";
        Assert.True(File.Exists(dll), $"build HappySad.Web first: {dll} is missing");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var argument in (string[])[dll, .. args])
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var (output, error) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await output, await error);
    }
}
