using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using HappySad.Training.Data;
using HappySad.Training.Training;
using HappySad.Web.Accounts;
using HappySad.Web.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Runs;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Cli.Commands;

/// <summary>How <c>bench --scale</c> runs: the data set's size and seed, and how hard it samples.</summary>
/// <param name="Data">The seed photos' class folders.</param>
/// <param name="Work">Where the generated photos and both data directories go; null for a temporary folder.</param>
/// <param name="Runs">Finished runs put in the app's database before the runs pages are timed.</param>
/// <param name="Samples">Requests per timed page or endpoint.</param>
/// <param name="MaxSide">The longest side of the largest generated photo (the smallest is 200 px).</param>
internal sealed record ScaleOptions(string Data, int Photos, string? Work, bool Keep, int Seed, int Runs, int Samples, int MaxSide)
{
    /// <summary>
    /// Training throughput and memory on the generated folder, filled in as <c>training</c>; the bench
    /// prints null until something measures it.
    /// </summary>
    public Func<string, CancellationToken, Task<object?>>? Training { get; init; }
}

/// <summary>
/// <c>bench --scale N</c>: makes an N-photo data set from the seed photos (<see cref="ScalePhotos"/>)
/// and measures what a user of a large data set waits on: the command line's import, the upload
/// API's import into the real app (its own process, on loopback), the scans, the data set and runs
/// pages with their data and thumbnails, and a run's snapshot, as one JSON document. Nothing here
/// asserts a target; the README reads the numbers against them.
/// </summary>
internal static partial class BenchScale
{
    const string AdminName = "bench-admin";

    /// <summary>The upload panel's batch (<c>file-transfer.js</c>), sent by a few clients at once as several tabs or a script would.</summary>
    const int FilesPerRequest = 20, UploadClients = 4;

    public static async Task<int> RunAsync(CliContext cli, ScaleOptions options)
    {
        if (options.Work is { } given && Directory.Exists(given) && Directory.EnumerateFileSystemEntries(given).Any())
            throw new UsageException($"--work {given} is not empty: give a new or empty folder");
        var work = options.Work ?? Directory.CreateTempSubdirectory("happysad-scale-").FullName;
        Directory.CreateDirectory(work);
        var clock = Stopwatch.StartNew();
        try
        {
            var photos = Path.Combine(work, "photos");
            var generation = ScalePhotos.Generate(options.Data, photos, options.Photos, options.Seed, options.MaxSide,
                new InlineProgress<int>(n => cli.Progress.Report("Generating", n, options.Photos)), cli.CancellationToken);
            cli.Progress.Clear();

            var scan = FolderScan(cli, photos);
            var cliImport = await CliImportAsync(cli, photos, Path.Combine(work, "cli-data"));

            var appData = Path.Combine(work, "app-data");
            var setup = await SetUpAppAsync(cli, photos, appData, options.Runs);
            ScaleImport apiImport;
            ScaleHttpTimings http;
            cli.Progress.Report("Starting the app", 0, 1);
            await using (var app = await ScaleApp.StartAsync(appData, cli.CancellationToken))
            {
                using var client = app.Client(setup.Admin.Token);
                using var session = await app.SessionClientAsync(setup.Admin, cli.CancellationToken);
                (apiImport, var photoIds) = await UploadAsync(cli, client, app, photos, setup.DataSetId);
                http = await HttpTimingsAsync(cli, client, session, setup, photoIds, options.Samples);
            }
            var inProcess = await InProcessAsync(cli, appData, setup, options.Samples);
            var training = options.Training is { } measure ? await measure(photos, cli.CancellationToken) : null;

            await cli.WriteJsonAsync(new ScaleReport(
                options.Photos, options.Seed, Math.Round(clock.Elapsed.TotalSeconds, 1), options.Keep ? work : null, generation, cliImport, apiImport,
                scan, inProcess.DataSetScan, http.Pages, inProcess.PageData, inProcess.Snapshot, http.Runs, inProcess.RunsData, training));
            return 0;
        }
        finally
        {
            // Only what the bench made: a folder it was given stays, emptied.
            if (!options.Keep)
            {
                foreach (var made in options.Work is null ? [work] : (string[])[Path.Combine(work, "photos"), Path.Combine(work, "cli-data"), Path.Combine(work, "app-data")])
                {
                    if (Directory.Exists(made))
                        Directory.Delete(made, recursive: true);
                }
            }
        }
    }

    /// <summary>The <c>scan</c> verb's core over the generated folder: every file decoded, the broken ones named.</summary>
    static ScaleFolderScan FolderScan(CliContext cli, string photos)
    {
        var clock = Stopwatch.StartNew();
        var folder = ImageFolder.Open(photos);
        var report = DataScanner.Scan(folder, progress: new InlineProgress<int>(n => cli.Progress.Report("Scanning the folder", n, folder.Files.Count)), cancellationToken: cli.CancellationToken);
        cli.Progress.Clear();
        return new ScaleFolderScan(report.Files, report.Usable, Math.Round(clock.Elapsed.TotalSeconds, 2),
            [.. report.Rejected.Select(r => new ScaleRejection(Path.GetFileName(r.Path), r.Reason))]);
    }

    /// <summary>The <c>import</c> verb's core (<see cref="PhotoImporter.ImportFolderAsync"/>) into a fresh data directory.</summary>
    static async Task<ScaleImport> CliImportAsync(CliContext cli, string photos, string dataDirectory)
    {
        var folder = ImageFolder.Open(photos);
        var storage = await cli.OpenStorageAsync(dataDirectory, ThisExecutable.OwnStorage);
        await using (storage)
        {
            var dataSet = await storage.Get<DataSetService>().CreateAsync("scale", folder.ClassNames[0], folder.ClassNames[1], cli.CancellationToken);
            var done = 0;
            var clock = Stopwatch.StartNew();
            var outcomes = await storage.Get<PhotoImporter>().ImportFolderAsync(dataSet.Id, photos,
                new InlineProgress<UploadOutcome>(_ => cli.Progress.Report("Importing (command line)", ++done, folder.Files.Count)), cli.CancellationToken);
            var seconds = clock.Elapsed.TotalSeconds;
            cli.Progress.Clear();
            return ScaleImport.Of([.. outcomes.Select(o => (o.Name, o.Status.ToString(), o.Reason))], seconds);
        }
    }

    /// <summary>What the app's data directory holds before it starts: an admin with a token, the empty data set, and the recorded runs.</summary>
    sealed record AppSetup(BenchAdmin Admin, int DataSetId, int RunCount, int FirstRunId);

    static async Task<AppSetup> SetUpAppAsync(CliContext cli, string photos, string dataDirectory, int runs)
    {
        var folder = ImageFolder.Open(photos);
        var storage = await cli.OpenStorageAsync(dataDirectory, ThisExecutable.OwnStorage);
        await using (storage)
        {
            var admin = await ScaleApp.AdminAsync(storage, AdminName, "bench --scale", cli.CancellationToken);
            var dataSet = await storage.Get<DataSetService>().CreateAsync("scale", folder.ClassNames[0], folder.ClassNames[1], cli.CancellationToken);
            var firstRunId = await RecordRunsAsync(cli, storage.Get<IDbContextFactory<HappySadDbContext>>(), dataSet, runs);
            return new AppSetup(admin, dataSet.Id, runs, firstRunId);
        }
    }

    /// <summary>Finished runs of three epochs each, written as the app's recorder leaves them, in batches; returns the first one's id.</summary>
    static async Task<int> RecordRunsAsync(CliContext cli, IDbContextFactory<HappySadDbContext> contexts, DataSetSummary dataSet, int runs)
    {
        var random = new Random(runs);
        var started = DateTimeOffset.UtcNow.AddDays(-30);
        int? first = null;
        const int Batch = 250;
        for (var offset = 0; offset < runs; offset += Batch)
        {
            await using var context = await contexts.CreateDbContextAsync(cli.CancellationToken);
            var batch = Enumerable.Range(offset, Math.Min(Batch, runs - offset)).Select(i =>
            {
                var at = started.AddMinutes(30 * i);
                var accuracy = Math.Round(0.55 + 0.4 * random.NextDouble(), 4);
                return new TrainingRun
                {
                    Source = RunSource.Dashboard,
                    Status = RunStatus.Succeeded,
                    DataSetId = dataSet.Id,
                    DataName = dataSet.Name,
                    Recipe = new RunRecipe { Epochs = 3, Seed = i },
                    Device = "cpu",
                    CreatedBy = AdminName,
                    CreatedAt = at,
                    StartedAt = at.AddSeconds(5),
                    FinishedAt = at.AddMinutes(10),
                    ClassNames = [.. dataSet.ClassNames],
                    TrainImages = 700,
                    ValidationImages = 200,
                    TestImages = 100,
                    BestValAccuracy = accuracy,
                    BestEpoch = 3,
                    TestAccuracy = accuracy,
                    TestBalancedAccuracy = accuracy,
                    History = [.. Enumerable.Range(1, 3).Select(e => new RunEpoch
                    {
                        Epoch = e,
                        Loss = 0.7 / e,
                        Accuracy = accuracy - 0.1 / e,
                        ValLoss = 0.75 / e,
                        ValAccuracy = accuracy - 0.05 * (3 - e),
                        Seconds = 60,
                    })],
                };
            }).ToList();
            context.TrainingRuns.AddRange(batch);
            await context.SaveChangesAsync(cli.CancellationToken);
            first ??= batch[0].Id;
            cli.Progress.Report("Recording runs", offset + batch.Count, runs);
        }
        cli.Progress.Clear();
        return first ?? 0;
    }

    /// <summary>
    /// The generated files through <c>POST /api/datasets/{id}/photos</c>, as the page's folder upload
    /// sends them (each part named <c>class/file</c>), <see cref="FilesPerRequest"/> to a request from
    /// <see cref="UploadClients"/> clients at once.
    /// </summary>
    /// <returns>The import's counts and speed, and the accepted photos' ids (for the thumbnail timings).</returns>
    static async Task<(ScaleImport Import, IReadOnlyList<int> PhotoIds)> UploadAsync(CliContext cli, HttpClient client, ScaleApp app, string photos, int dataSetId)
    {
        var files = ImageFolder.Open(photos).ClassNames
            .SelectMany(c => Directory.EnumerateFiles(Path.Combine(photos, c)).Order(StringComparer.Ordinal).Select(f => (Path: f, Name: $"{c}/{Path.GetFileName(f)}")))
            .ToList();
        var batches = files.Chunk(FilesPerRequest).ToList();
        var outcomes = new List<(string Name, string Status, string? Reason, int? PhotoId)>(files.Count);
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, UploadClients).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var index && index < batches.Count)
            {
                using var form = new MultipartFormDataContent();
                foreach (var (path, name) in batches[index])
                    form.Add(new StreamContent(File.OpenRead(path)), "files", name);
                using var response = await client.PostAsync($"api/datasets/{dataSetId}/photos", form, cli.CancellationToken);
                var body = await response.Content.ReadAsStringAsync(cli.CancellationToken);
                if (!response.IsSuccessStatusCode)
                    throw new ApiRequestException($"uploading to data set {dataSetId} answered {(int)response.StatusCode}: {body}");
                using var report = JsonDocument.Parse(body);
                lock (outcomes)
                {
                    foreach (var file in report.RootElement.GetProperty("files").EnumerateArray())
                    {
                        outcomes.Add((file.GetProperty("name").GetString()!, file.GetProperty("status").GetString()!,
                            file.TryGetProperty("reason", out var reason) ? reason.GetString() : null,
                            file.TryGetProperty("photo_id", out var id) && id.ValueKind == JsonValueKind.Number ? id.GetInt32() : null));
                    }
                    cli.Progress.Report("Uploading (API)", outcomes.Count, files.Count);
                }
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        cli.Progress.Clear();
        var import = ScaleImport.Of([.. outcomes.Select(o => (o.Name, o.Status, o.Reason))], seconds)
            with { Clients = UploadClients, FilesPerRequest = FilesPerRequest, PeakWorkingSetMb = app.PeakWorkingSetMegabytes() };
        return (import, [.. outcomes.Where(o => o.PhotoId is not null).Select(o => o.PhotoId!.Value).Order()]);
    }

    sealed record ScaleHttpTimings(ScalePages Pages, ScaleRunsPages Runs);

    /// <summary>
    /// Server time over loopback, to the response's last byte: the API with the token
    /// (<paramref name="client"/>), the dashboard's pages signed in (<paramref name="session"/>). The
    /// pages are interactive without prerendering, so their HTML is the same shell at any size; what
    /// they load through their circuit is timed in process (<see cref="InProcessAsync"/>).
    /// </summary>
    static async Task<ScaleHttpTimings> HttpTimingsAsync(CliContext cli, HttpClient client, HttpClient session, AppSetup setup, IReadOnlyList<int> photoIds, int samples)
    {
        var dataSetPage = await TimeGetsAsync(cli, session, "data set page", samples, _ => $"datasets/{setup.DataSetId}");
        var dataSetApi = await TimeGetsAsync(cli, client, "data set summary", samples, _ => $"api/datasets/{setup.DataSetId}");

        // The grid's pages are newest first: the first page shows the highest ids, the last the lowest.
        var newestFirst = photoIds.Reverse().ToList();
        var pageCount = (newestFirst.Count + PageSize - 1) / PageSize;
        var shown = new[] { 0, pageCount / 2, pageCount - 1 }.Distinct()
            .SelectMany(page => newestFirst.Skip(page * PageSize).Take(PageSize)).ToList();
        // Each shown thumbnail once, as a first visit makes them, then again from the cache.
        var firstView = await TimeGetsAsync(cli, client, "thumbnails, first view", shown.Count, i => $"api/photos/{shown[i]}/thumbnail");
        var cached = await TimeGetsAsync(cli, client, "thumbnails, cached", samples, i => $"api/photos/{shown[i % shown.Count]}/thumbnail");

        var runsPage = await TimeGetsAsync(cli, session, "runs page", samples, _ => "runs");
        var listed = 0;
        var runsApi = await TimeGetsAsync(cli, client, "runs API", samples, _ => "api/runs", body =>
        {
            using var document = JsonDocument.Parse(body);
            listed = document.RootElement.GetArrayLength();
        });
        var runPage = await TimeGetsAsync(cli, session, "run page", samples, _ => $"runs/{setup.FirstRunId}");
        var runApi = await TimeGetsAsync(cli, client, "run API", samples, _ => $"api/runs/{setup.FirstRunId}");
        return new ScaleHttpTimings(
            new ScalePages(dataSetPage, dataSetApi, firstView, cached),
            new ScaleRunsPages(setup.RunCount, listed, runsPage, runsApi, runPage, runApi));
    }

    /// <summary>Times <paramref name="samples"/> GETs one after another, after one untimed warm-up; any failure stops the bench.</summary>
    static async Task<ScaleTiming> TimeGetsAsync(CliContext cli, HttpClient client, string what, int samples, Func<int, string> url, Action<string>? read = null)
    {
        async Task<double> GetAsync(int i)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(url(i), cli.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(cli.CancellationToken);
            var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
                throw new ApiRequestException($"GET {url(i)} ({what}) answered {(int)response.StatusCode}");
            read?.Invoke(body);
            return milliseconds;
        }

        if (!what.Contains("first view", StringComparison.Ordinal))
            await GetAsync(0);
        var times = new List<double>(samples);
        for (var i = 0; i < samples; i++)
        {
            times.Add(await GetAsync(i));
            cli.Progress.Report($"Timing the {what}", i + 1, samples);
        }
        cli.Progress.Clear();
        return ScaleTiming.Of(times);
    }

    sealed record InProcessResults(ScaleDataSetScan DataSetScan, ScalePageData PageData, ScaleSnapshot Snapshot, ScaleRunsData RunsData);

    /// <summary>
    /// With the app stopped, in this process over its data directory: the data set scan its page
    /// runs (there is no scan endpoint), what the data set and runs pages load on first render,
    /// and the snapshot a run on the data set takes.
    /// </summary>
    static async Task<InProcessResults> InProcessAsync(CliContext cli, string dataDirectory, AppSetup setup, int samples)
    {
        var storage = await cli.OpenStorageAsync(dataDirectory, ThisExecutable.OwnStorage);
        await using (storage)
        {
            var dataSets = storage.Get<DataSetService>();
            var scanner = storage.Get<DataSetScanner>();
            var summary = await dataSets.GetAsync(setup.DataSetId, cli.CancellationToken) ?? throw new DataSetNotFoundException(setup.DataSetId);

            var clock = Stopwatch.StartNew();
            var findings = await scanner.ScanAsync(setup.DataSetId,
                new InlineProgress<(int Done, int Total)>(p => cli.Progress.Report("Scanning the data set", p.Done, p.Total)), cli.CancellationToken);
            var scanSeconds = clock.Elapsed.TotalSeconds;
            cli.Progress.Clear();
            var scan = new ScaleDataSetScan(summary.StoredPhotoCount, Math.Round(scanSeconds, 2),
                findings.GroupBy(f => f.Kind).ToDictionary(g => Regex.Replace(g.Key.ToString(), "(?<=[a-z])([A-Z])", "_$1").ToLowerInvariant(), g => g.Count()));

            var firstClass = summary.ClassNames[0];
            var pages = (summary.ClassCounts[0] + PageSize - 1) / PageSize;
            // What DatasetPage, its DataHealthPanel and its first PhotoGrid load before anything shows.
            var page = await TimeAsync(cli, "data set page's data", samples, async () =>
            {
                await dataSets.GetAsync(setup.DataSetId, cli.CancellationToken);
                await scanner.HealthAsync(setup.DataSetId, cli.CancellationToken);
                await dataSets.PageAsync(setup.DataSetId, firstClass, false, 0, PageSize, cli.CancellationToken);
            });
            var firstPage = await TimeAsync(cli, "first photo page", samples, () => dataSets.PageAsync(setup.DataSetId, firstClass, false, 0, PageSize, cli.CancellationToken));
            var middlePage = await TimeAsync(cli, "middle photo page", samples, () => dataSets.PageAsync(setup.DataSetId, firstClass, false, pages / 2, PageSize, cli.CancellationToken));
            var lastPage = await TimeAsync(cli, "last photo page", samples, () => dataSets.PageAsync(setup.DataSetId, firstClass, false, pages - 1, PageSize, cli.CancellationToken));

            var runs = storage.Get<RunService>();
            var runsList = await TimeAsync(cli, "runs page's data", samples, () => runs.ListAsync(cli.CancellationToken));
            var runData = await TimeAsync(cli, "run page's data", samples, async () =>
            {
                await runs.GetAsync(setup.FirstRunId, cli.CancellationToken);
                await runs.ImagesAsync(setup.FirstRunId, RunSplit.Test, cli.CancellationToken);
            });

            // A run's snapshot lists the data set's usable photos; the run row is one of the recorded runs, which recorded no images.
            clock.Restart();
            var snapshot = await storage.Get<RunSnapshot>().TakeAsync(setup.FirstRunId, folder: null, cli.CancellationToken);
            var snapshotSeconds = clock.Elapsed.TotalSeconds;

            return new InProcessResults(scan,
                new ScalePageData(summary.ClassCounts[0], PageSize, page, firstPage, middlePage, lastPage),
                new ScaleSnapshot(snapshot.Entries.Count, Math.Round(snapshotSeconds, 3)),
                new ScaleRunsData(runsList, runData));
        }
    }

    static async Task<ScaleTiming> TimeAsync(CliContext cli, string what, int samples, Func<Task> load)
    {
        await load();
        var times = new List<double>(samples);
        for (var i = 0; i < samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await load();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            cli.Progress.Report($"Timing the {what}", i + 1, samples);
        }
        cli.Progress.Clear();
        return ScaleTiming.Of(times);
    }

    /// <summary>The photo grid's page size.</summary>
    const int PageSize = Components.Pages.Datasets.Components.PhotoGrid.PageSize;
}

/// <summary>
/// The web app as its own process (this executable, on a free loopback port), over a data directory
/// prepared beforehand, with upload limits raised so the bench measures the import, not the throttle.
/// </summary>
internal sealed partial class ScaleApp : IAsyncDisposable
{
    readonly Process _process;

    ScaleApp(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<ScaleApp> StartAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var start = ThisExecutable.StartInfo([.. ThisExecutable.OwnStorage, "--urls", "http://127.0.0.1:0", "--data-dir", dataDirectory,
            "--UserRateLimits:UploadsPerMinute=1000000", "--UserRateLimits:PredictionsPerMinute=1000000",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information"]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void OnLine(string? line)
        {
            if (line is null)
                return;
            if (log.Count < 200)
                log.Enqueue(line);
            if (ListeningLine().Match(line) is { Success: true } match)
                listening.TrySetResult(new Uri(match.Groups[1].Value + "/"));
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync(cancellationToken);
        if (await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromMinutes(2), cancellationToken)) != listening.Task)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            process.Dispose();
            throw new InvalidOperationException($"the app did not start listening:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
        }
        return new ScaleApp(process, await listening.Task);
    }

    /// <summary>
    /// Makes an admin (with a random password, kept only by this process) in the app's data
    /// directory before it starts, and an API token of theirs for the bench's API requests.
    /// </summary>
    public static async Task<BenchAdmin> AdminAsync(AppStorage storage, string adminName, string tokenName, CancellationToken cancellationToken)
    {
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var admin = await storage.Get<UserAdministration>().CreateAsync(adminName, AppRoles.Admin, password);
        return new BenchAdmin(adminName, password, await storage.Get<ApiTokenService>().CreateAsync(admin.Id, tokenName, cancellationToken));
    }

    /// <summary>A client for the API, with the admin's token. It follows no redirect: an answer the bench did not mean to time fails it.</summary>
    public HttpClient Client(string token)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, AllowAutoRedirect = false }) { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A client for the dashboard's pages, signed in as <paramref name="admin"/> with the session cookie (a token does not open them).</summary>
    public async Task<HttpClient> SessionClientAsync(BenchAdmin admin, CancellationToken cancellationToken)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(10) };
        try
        {
            await SessionSignIn.SignInAsync(client, admin.Name, admin.Password, cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The app's peak resident memory so far (<c>VmHWM</c>); null where <c>/proc</c> does not exist.</summary>
    public double? PeakWorkingSetMegabytes() => PeakMemory.Of(_process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The app's processor time so far, user and system, over all its threads.</summary>
    public TimeSpan ProcessorTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>Ends the app as a power cut would: its data directory's lock dies with it, and the bench only reads what it committed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}

internal sealed record ScaleTiming(int Samples, double P50Ms, double P95Ms)
{
    public static ScaleTiming Of(List<double> milliseconds)
    {
        milliseconds.Sort();
        return milliseconds.Count == 0
            ? new ScaleTiming(0, 0, 0)
            : new ScaleTiming(milliseconds.Count, Math.Round(milliseconds[milliseconds.Count / 2], 2), Math.Round(milliseconds[Math.Min(milliseconds.Count - 1, (int)(milliseconds.Count * 0.95))], 2));
    }
}

internal sealed record ScaleRejection(string Name, string? Reason);

/// <param name="RejectedFiles">Every file not accepted (rejected or duplicate), with the reason.</param>
internal sealed record ScaleImport(int Files, int Accepted, int Rejected, int Duplicates, double Seconds, double PhotosPerSecond, IReadOnlyList<ScaleRejection> RejectedFiles)
{
    /// <summary>Upload API only: concurrent clients.</summary>
    public int? Clients { get; init; }

    /// <summary>Upload API only: files per multipart request.</summary>
    public int? FilesPerRequest { get; init; }

    /// <summary>Upload API only: the app process's peak resident memory (VmHWM) from its start to the end of the upload.</summary>
    public double? PeakWorkingSetMb { get; init; }

    public static ScaleImport Of(IReadOnlyList<(string Name, string Status, string? Reason)> outcomes, double seconds)
    {
        int Count(UploadStatus status) => outcomes.Count(o => string.Equals(o.Status, status.ToString(), StringComparison.OrdinalIgnoreCase));
        return new ScaleImport(outcomes.Count, Count(UploadStatus.Accepted), Count(UploadStatus.Rejected), Count(UploadStatus.Duplicate),
            Math.Round(seconds, 2), Math.Round(outcomes.Count / seconds, 1),
            [.. outcomes.Where(o => !string.Equals(o.Status, nameof(UploadStatus.Accepted), StringComparison.OrdinalIgnoreCase)).Select(o => new ScaleRejection(o.Name, o.Reason)).OrderBy(r => r.Name, StringComparer.Ordinal)]);
    }
}

internal sealed record ScaleFolderScan(int Files, int Usable, double Seconds, IReadOnlyList<ScaleRejection> Rejected);

/// <param name="Findings">Counts by kind (unusable, in_both_classes, near_duplicate, lying_extension).</param>
internal sealed record ScaleDataSetScan(int Photos, double Seconds, IReadOnlyDictionary<string, int> Findings);

/// <summary>Over HTTP: the data set page's HTML, its summary, and thumbnails of its first, middle and last grid pages.</summary>
internal sealed record ScalePages(ScaleTiming DataSetPage, ScaleTiming DataSetApi, ScaleTiming ThumbnailsFirstView, ScaleTiming ThumbnailsCached);

/// <summary>In process: what the data set page loads, and its grid's pages of one class.</summary>
internal sealed record ScalePageData(int ClassPhotos, int PageSize, ScaleTiming DataSetPage, ScaleTiming FirstPage, ScaleTiming MiddlePage, ScaleTiming LastPage);

internal sealed record ScaleSnapshot(int Photos, double Seconds);

internal sealed record ScaleRunsPages(int Recorded, int Listed, ScaleTiming RunsPage, ScaleTiming RunsApi, ScaleTiming RunPage, ScaleTiming RunApi);

internal sealed record ScaleRunsData(ScaleTiming RunsPage, ScaleTiming RunPage);

internal sealed record ScaleReport(
    int Photos, int Seed, double Seconds, string? WorkDirectory, ScaleGeneration Generation, ScaleImport CliImport, ScaleImport ApiImport,
    ScaleFolderScan FolderScan, ScaleDataSetScan DataSetScan, ScalePages Http, ScalePageData PageData, ScaleSnapshot Snapshot,
    ScaleRunsPages Runs, ScaleRunsData RunsData, object? Training)
{
    /// <summary>Printed even while null, so scripts see the field the training measurement fills.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
    public object? Training { get; init; } = Training;
}

/// <summary>The admin a bench makes in the app it starts: a password for the dashboard's pages, a token for the API.</summary>
public sealed record BenchAdmin(string Name, string Password, string Token);
