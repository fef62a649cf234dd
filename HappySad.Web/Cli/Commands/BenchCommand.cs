using System.CommandLine;
using System.Diagnostics;
using HappySad.Training.Data;
using HappySad.Training.Faces;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;
using HappySad.Training.Training;
using SkiaSharp;
using TorchSharp;

namespace HappySad.Web.Cli.Commands;

/// <summary>
/// Speed and memory of the core on this machine, as one JSON document. The targets it is read
/// against live in the README; nothing here asserts them.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Forward pass of the SeedCnn on one 256x256 image is 0.24 GFLOP; training costs about three of them.</summary>
    const double TrainingGflopPerImage = 0.72;

    public static Command Create(CliContext cli)
    {
        var data = CliOptions.Data("A class-folder data set; locally it is decoded and trained on, against an app its first photo is sent; with --scale, the seed photos.");
        data.Required = false;
        data.DefaultValueFactory = _ => Path.Combine("..", "shared", "datasets", "happy-sad");
        var epochs = CliOptions.Int("--epochs", "Training epochs to time (the last one is the steady state).", 2, min: 1);
        var api = new Option<string?>("--api") { Description = "Measure the predict API of a running app at this address instead.", HelpName = "URL" };
        var model = new Option<string?>("--model") { Description = "With --api: the model id to predict with (from GET /api/models).", HelpName = "ID" };
        var token = new Option<string?>("--token") { Description = "With --api: an API token (from the app's /account page) of a user who may predict.", HelpName = "TOKEN" };
        var clients = new Option<int[]>("--clients")
        {
            Description = "With --api or --serve: the numbers of concurrent clients to measure, one after another.",
            HelpName = "N",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [1, 8],
        };
        clients.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int[]>() is { } levels && levels.Any(n => n < 1))
                result.AddError("--clients must be at least 1");
        });
        var seconds = CliOptions.Int("--seconds", "With --api or --serve: how long each number of clients runs.", 15, min: 1);
        var serve = new Option<string[]>("--serve")
        {
            Description = "Start the app (its own process over a temporary data directory) serving these model files (.hsmodel) and measure its predict API with each, at each --clients.",
            HelpName = "MODEL",
            AllowMultipleArgumentsPerToken = true,
        };
        var workers = CliOptions.Int("--workers", "Measure how fast N worker processes drain a queue of short runs instead (needs --postgres: an empty database).", 0, min: 0);
        var postgres = new Option<string?>("--postgres") { Description = "With --workers: the PostgreSQL connection string of an empty database.", HelpName = "CONNECTION" };
        var runs = new Option<int?>("--runs") { Description = "With --workers: how many runs to queue [default: 6]; with --scale: finished runs recorded before the runs pages are timed [default: 1000].", HelpName = "N" };
        runs.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() < 1)
                result.AddError("--runs must be at least 1");
        });
        var scale = CliOptions.Int("--scale", "Make an N-photo data set from --data's photos and time import, scans, pages and snapshot at that size instead.", 0, min: 1);
        var work = new Option<string?>("--work") { Description = "With --scale: where the photos and data directories go (default: a temporary folder).", HelpName = "DIR" };
        var keep = new Option<bool>("--keep") { Description = "With --scale: keep the work folder afterwards." };
        var seed = CliOptions.Int("--seed", "With --scale: the same seed makes the same photos.", 1);
        var samples = CliOptions.Int("--samples", "With --scale: requests per timed page or endpoint.", 50, min: 1);
        var maxSide = CliOptions.Int("--max-side", "With --scale: the longest side of the largest generated photo, in pixels.", 1200, min: 200);
        var streaming = new Option<string?>("--streaming")
        {
            Description = "Measure training from the pixel cache on this (large) class-folder data set beside --data (the seed photos): cache building, throughput and peak memory at both sizes.",
            HelpName = "DIR",
        };
        // One measurement alone in a child process, so one data set's memory is not counted in the other's peak.
        var streamingOne = new Option<string?>("--streaming-one") { Hidden = true };
        var cacheDirectory = new Option<string?>("--cache") { Hidden = true };
        var batches = CliOptions.Int("--batches", "With --streaming or --scale: training batches timed on each data set (the seed photos and the large one).", 40, min: WarmUpBatchesPlusOne);
        var json = CliOptions.Json();
        var command = new Command("bench",
            "Speed and memory of the core on this machine, as one JSON document; with --api, the predict API's latency and throughput against a running app.")
            { data, epochs, api, model, token, clients, seconds, serve, workers, postgres, runs, scale, work, keep, seed, samples, maxSide, streaming, streamingOne, cacheDirectory, batches, json };
        command.SetAction((parse, _) =>
        {
            var run = cli.ForJson(parse.GetValue(json));
            if (parse.GetValue(scale) is > 0 and var photos)
                return BenchScale.RunAsync(run, new ScaleOptions(parse.GetRequiredValue(data), photos, parse.GetValue(work), parse.GetValue(keep),
                    parse.GetValue(seed), parse.GetValue(runs) ?? 1000, parse.GetValue(samples), parse.GetValue(maxSide))
                {
                    Training = async (folder, _) => await StreamingReportAsync(run, parse.GetRequiredValue(data), folder, parse.GetValue(batches)),
                });
            if (parse.GetValue(workers) is > 0 and var count)
                return BenchWorkers.RunAsync(run, parse.GetRequiredValue(data), parse.GetValue(postgres) ?? throw new UsageException("'bench --workers' needs --postgres (an empty database)"),
                    count, parse.GetValue(runs) ?? 6, parse.GetValue(epochs));
            if (parse.GetValue(streamingOne) is { } one)
                return StreamingOneAsync(run, one, parse.GetValue(cacheDirectory) ?? throw new UsageException("--streaming-one needs --cache"), parse.GetValue(batches));
            if (parse.GetValue(streaming) is { } large)
                return StreamingAsync(run, parse.GetRequiredValue(data), large, parse.GetValue(batches));
            if (parse.GetValue(serve) is { Length: > 0 } files)
                return ServeAsync(run, files, parse.GetRequiredValue(data), parse.GetValue(clients) ?? [1, 8], parse.GetValue(seconds));
            if (parse.GetValue(api) is not { } address)
                return RunAsync(run, parse.GetRequiredValue(data), parse.GetValue(epochs));
            var id = parse.GetValue(model) ?? throw new UsageException("'bench --api' needs --model (a model id from GET /api/models)");
            var bearer = parse.GetValue(token) ?? throw new UsageException("'bench --api' needs --token (an API token from the app's /account page)");
            return ApiAsync(run, address, id, bearer, parse.GetRequiredValue(data), parse.GetValue(clients) ?? [1, 8], parse.GetValue(seconds));
        });
        return command;
    }

    static async Task<int> RunAsync(CliContext cli, string data, int epochs)
    {
        TorchRuntime.EnsureInitialized();
        var device = TorchDevices.Resolve(DevicePreference.Auto);

        var folder = ImageFolder.Open(data);
        folder.Load(cancellationToken: cli.CancellationToken); // warm the file cache and the JIT
        var clock = Stopwatch.StartNew();
        var load = folder.Load(cancellationToken: cli.CancellationToken);
        var decodePerSecond = folder.Files.Count / clock.Elapsed.TotalSeconds;

        var matmulGflops = MeasureMatmul(device);

        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 1);
        var history = await new Trainer(device).FitAsync(model, load.Images, null, new FitOptions { Epochs = epochs, BatchSize = 32 }, cancellationToken: cli.CancellationToken);
        // The first epoch pays for warming up allocators and kernels; the last is the steady state.
        var trainingPerSecond = load.Images.Count / history.Last!.Seconds;
        var trainingGflops = trainingPerSecond * TrainingGflopPerImage;

        var card = new ModelCard { Architecture = SeedCnn.ArchitectureName, ClassNames = load.Images.ClassNames };
        var photo = FirstPhoto(folder);
        var (p50, p95) = MeasurePrediction(new ImageClassifier(model, card, device), MakeJpeg(photo, 1155, 866));
        var (face, smallFace, noFace) = MeasureFaceModel(photo, device);

        await cli.WriteJsonAsync(new BenchReport(
            Device: device.type.ToString().ToLowerInvariant(),
            Processors: Environment.ProcessorCount,
            TorchThreads: torch.get_num_threads(),
            Images: load.Images.Count,
            DecodeImagesPerSecond: Math.Round(decodePerSecond, 1),
            TrainingImagesPerSecond: Math.Round(trainingPerSecond, 1),
            TrainingFirstEpochImagesPerSecond: Math.Round(load.Images.Count / history.Epochs[0].Seconds, 1),
            TrainingGflops: Math.Round(trainingGflops, 1),
            MatmulGflops: Math.Round(matmulGflops, 1),
            TrainingToMatmulRatio: Math.Round(trainingGflops / matmulGflops, 3),
            Predict1MpJpegP50Ms: Math.Round(p50, 2),
            Predict1MpJpegP95Ms: Math.Round(p95, 2),
            FaceModel: BestArchitecture,
            FaceDetection: BestDetection.Describe(),
            PredictFaceModel1MpJpegP50Ms: Math.Round(face.P50, 2),
            PredictFaceModel1MpJpegP95Ms: Math.Round(face.P95, 2),
            PredictFaceModelSmallFace1MpJpegP50Ms: smallFace is { } timed ? Math.Round(timed.P50, 2) : null,
            PredictFaceModelSmallFace1MpJpegP95Ms: smallFace is { } timedToo ? Math.Round(timedToo.P95, 2) : null,
            PredictFaceModelNoFace1MpJpegP50Ms: Math.Round(noFace.P50, 2),
            PredictFaceModelNoFace1MpJpegP95Ms: Math.Round(noFace.P95, 2),
            PeakWorkingSetMb: Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0), 0),
            AllocatorTuned: TorchRuntime.AllocatorTuned,
            JpegDecoder: TurboJpeg.Decoder));
        return 0;
    }

    const int WarmUpBatchesPlusOne = 9;

    /// <summary>
    /// <c>bench --streaming LARGE --data SEED</c>: <see cref="BenchTraining"/> on the seed photos, then on
    /// the large set, each in a process of its own (so peaks compare) with its own new cache under the
    /// system's temporary folder (deleted after), and how the large set's steady throughput and peak
    /// memory compare with the small one's.
    /// </summary>
    static async Task<int> StreamingAsync(CliContext cli, string small, string large, int batches)
    {
        await cli.WriteJsonAsync(await StreamingReportAsync(cli, small, large, batches));
        return 0;
    }

    /// <summary>What <c>bench --streaming</c> prints, and <c>bench --scale</c> as its <c>training</c>.</summary>
    static async Task<StreamingBenchReport> StreamingReportAsync(CliContext cli, string small, string large, int batches)
    {
        var cache = Directory.CreateTempSubdirectory("happysad-bench-cache-").FullName;
        try
        {
            var seed = await MeasureInChildAsync(cli, small, Path.Combine(cache, "small"), batches);
            var big = await MeasureInChildAsync(cli, large, Path.Combine(cache, "large"), batches);
            return new StreamingBenchReport(
                seed,
                big,
                SteadyThroughputRatio: Math.Round(big.SteadyImagesPerSecond / seed.SteadyImagesPerSecond, 3),
                TrainingPeakWorkingSetRatio: Math.Round(big.TrainingPeakWorkingSetMb / seed.TrainingPeakWorkingSetMb, 3));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    static async Task<int> StreamingOneAsync(CliContext cli, string folder, string cache, int batches)
    {
        await cli.WriteJsonAsync(await BenchTraining.MeasureAsync(cli, folder, cache, batches));
        return 0;
    }

    /// <summary>Runs <c>bench --streaming-one</c> as a child of this process (its progress on this one's standard error) and reads its report.</summary>
    static async Task<StreamingTrainingReport> MeasureInChildAsync(CliContext cli, string folder, string cache, int batches)
    {
        var start = ThisExecutable.StartInfo(["bench", "--streaming-one", Path.GetFullPath(folder), "--cache", cache, "--batches", batches.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"]);
        start.RedirectStandardOutput = true;
        using var child = Process.Start(start)!;
        var output = await child.StandardOutput.ReadToEndAsync(cli.CancellationToken);
        await child.WaitForExitAsync(cli.CancellationToken);
        if (child.ExitCode != 0)
            throw new InvalidOperationException($"measuring {folder} failed (exit code {child.ExitCode})");
        return System.Text.Json.JsonSerializer.Deserialize<StreamingTrainingReport>(output, CliContext.Json)
            ?? throw new InvalidOperationException($"measuring {folder} printed no report");
    }

    /// <summary>Best of five 2048x2048 fp32 matrix products, after one warm-up.</summary>
    static double MeasureMatmul(torch.Device device)
    {
        const int n = 2048;
        using var a = torch.rand(n, n, device: device);
        using var b = torch.rand(n, n, device: device);
        torch.mm(a, b).Dispose();
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            using (var c = torch.mm(a, b))
                c.sum().item<float>(); // forces completion on asynchronous devices
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /// <summary>
    /// The best preset's model (untrained: its learnt numbers do not change the cost) on the same
    /// 1-megapixel JPEG, a portrait whose face is found at the first look, and on one without a face
    /// (a smooth colour field), where every extra look runs before it falls back to the no-face lean.
    /// </summary>
    static readonly string BestArchitecture = new RunRecipe().WithPreset(RunRecipe.BestPreset).Architecture;

    /// <summary>How the best preset's models find faces (and raised hands, without a face or over a small one).</summary>
    static readonly FaceDetection BestDetection = new RunRecipe().WithPreset(RunRecipe.BestPreset).Preparation().FaceDetection;

    /// <summary>
    /// The best preset's face model, untrained (the work does not depend on the weights), on three
    /// 1-megapixel photos: the portrait filling the frame; the same portrait at a third of the frame's
    /// height on a colour field, so its face is small enough for the pose pass
    /// (<see cref="RaisedHands.MaxFaceHeight"/>; not timed, null, when the detection finds no face there
    /// or finds it large, as it may with another data set's first photo); and the field alone, where
    /// every look for a face runs.
    /// </summary>
    static ((double P50, double P95) Face, (double P50, double P95)? SmallFace, (double P50, double P95) NoFace) MeasureFaceModel(string portrait, torch.Device device)
    {
        var model = ModelArchitectures.Create(BestArchitecture, seed: 1);
        var card = new ModelCard
        {
            Architecture = BestArchitecture,
            ClassNames = ["happy", "sad"],
            Preprocessing = new Preprocessing { InputSize = FaceVerdictClassifier.InputSize, Crop = CropMode.FaceAndWhole, FaceDetection = BestDetection },
        };
        using var classifier = new ImageClassifier(model, card, device);
        var face = MeasurePrediction(classifier, MakeJpeg(portrait, 1155, 866));
        // Timed only where it is what it says: the face found, and small enough for the pose pass.
        var small = OnAField(portrait, 866 / 3);
        (double P50, double P95)? smallFace = classifier.Predict(small).Face is { } found && RaisedHands.Default.LooksOver(found)
            ? MeasurePrediction(classifier, small, samples: 100)
            : null;
        var noFace = MeasurePrediction(classifier, OnAField(null, 0), samples: 40);
        return (face, smallFace, noFace);
    }

    /// <summary>A 1155x866 JPEG of a colour gradient, with <paramref name="photo"/> (if any) <paramref name="height"/> pixels high in its middle.</summary>
    static byte[] OnAField(string? photo, int height)
    {
        using var field = new SKBitmap(1155, 866);
        using (var canvas = new SKCanvas(field))
        {
            using (var paint = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(1155, 866), [SKColors.SkyBlue, SKColors.Orange], SKShaderTileMode.Clamp) })
                canvas.DrawRect(0, 0, 1155, 866, paint);
            if (photo is not null)
            {
                using var picture = SKImage.FromEncodedData(photo);
                var width = picture.Width * height / picture.Height;
                canvas.DrawImage(picture, SKRect.Create((1155 - width) / 2f, (866 - height) / 2f, width, height), new SKSamplingOptions(SKFilterMode.Linear));
            }
        }
        using var image = SKImage.FromBitmap(field);
        using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        return encoded.ToArray();
    }

    /// <summary>End-to-end latency (decode, prepare, forward) of one JPEG: 20 warm-up predictions, then <paramref name="samples"/> timed.</summary>
    static (double P50, double P95) MeasurePrediction(ImageClassifier classifier, byte[] jpeg, int samples = 200)
    {
        for (var i = 0; i < 20; i++)
            classifier.Predict(jpeg);
        var times = new double[samples];
        for (var i = 0; i < times.Length; i++)
        {
            var clock = Stopwatch.StartNew();
            classifier.Predict(jpeg);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return (times[times.Length / 2], times[(int)(times.Length * 0.95)]);
    }

    static byte[] MakeJpeg(string sourcePhoto, int width, int height)
    {
        using var source = SKBitmap.Decode(sourcePhoto);
        using var resized = source.Resize(new SKImageInfo(width, height), new SKSamplingOptions(SKFilterMode.Linear));
        using var image = SKImage.FromBitmap(resized);
        using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        return encoded.ToArray();
    }

    /// <summary>
    /// <c>bench --api URL --model ID --token TOKEN --data DIR [--clients 1 8] [--seconds 15]</c>: the
    /// predict API of a running app (<see cref="MeasureApiAsync"/>).
    /// </summary>
    static async Task<int> ApiAsync(CliContext cli, string api, string model, string token, string data, int[] clients, int seconds)
    {
        if (!Uri.TryCreate(api, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
            throw new UsageException($"--api '{api}' is not an http:// or https:// address of a running app");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(api), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        await cli.WriteJsonAsync(await MeasureApiAsync(cli, http, model, BenchJpeg(data), clients, seconds, processorTime: null));
        return 0;
    }

    /// <summary>
    /// <c>bench --serve MODEL... [--clients 1 8] [--seconds 15]</c>: the app as its own process on a
    /// free loopback port, over a fresh data directory holding copies of the model files and an admin
    /// with an API token (per-user limits raised), measured with each model in turn.
    /// </summary>
    static async Task<int> ServeAsync(CliContext cli, string[] files, string data, int[] clients, int seconds)
    {
        foreach (var file in files.Where(f => !File.Exists(f)))
            throw new UsageException($"--serve {file}: no such model file");
        var work = Directory.CreateTempSubdirectory("happysad-serve-").FullName;
        try
        {
            var models = Directory.CreateDirectory(Path.Combine(work, "models")).FullName;
            var ids = new List<string>();
            foreach (var file in files)
            {
                var name = $"bench-{ids.Count + 1}-{Path.GetFileNameWithoutExtension(file)}";
                File.Copy(file, Path.Combine(models, name + Path.GetExtension(file)));
                ids.Add("file-" + name);
            }
            string token;
            var storage = await cli.OpenStorageAsync(work, ThisExecutable.OwnStorage);
            await using (storage)
                token = (await ScaleApp.AdminAsync(storage, "bench-admin", "bench --serve", cli.CancellationToken)).Token;
            cli.Progress.Report("Starting the app", 0, 1);
            await using var app = await ScaleApp.StartAsync(work, cli.CancellationToken);
            cli.Progress.Clear();
            using var http = app.Client(token);
            var jpeg = BenchJpeg(data);
            var reports = new List<ApiBenchReport>();
            foreach (var id in ids)
                reports.Add(await MeasureApiAsync(cli, http, id, jpeg, clients, seconds, app.ProcessorTime));
            await cli.WriteJsonAsync(new ServeBenchReport(Environment.ProcessorCount, reports, app.PeakWorkingSetMegabytes(), TurboJpeg.Decoder));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>How long <see cref="MeasureApiAsync"/> sends requests before it times any.</summary>
    static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);

    /// <summary>The request photo: the data set's first photo as a 1155x866 (1-megapixel) JPEG.</summary>
    static byte[] BenchJpeg(string data) => MakeJpeg(FirstPhoto(ImageFolder.Open(data)), 1155, 866);

    /// <summary>The first file of the folder that decodes: the photo the speed measures are made from.</summary>
    static string FirstPhoto(ImageFolder folder)
    {
        foreach (var file in folder.Files)
        {
            using var decoded = SKBitmap.Decode(file.Path);
            if (decoded is not null)
                return file.Path;
        }
        throw new DataSetException($"no file in '{folder.Root}' decodes as a photo");
    }

    /// <summary>
    /// <c>POST /api/models/{id}/predict</c> with one 1-megapixel JPEG a request. After 20 warm-up
    /// requests and <see cref="WarmUp"/> (at most one level's time) at the most clients, each number of clients sends requests back to back for the given time; every
    /// request's latency counts, so p50/p95 at 8 clients include the queueing. Where the app's
    /// processor time can be read, each level also says how much of it a prediction cost.
    /// </summary>
    static async Task<ApiBenchReport> MeasureApiAsync(CliContext cli, HttpClient http, string model, byte[] jpeg, int[] clients, int seconds, Func<TimeSpan>? processorTime)
    {
        var url = $"api/models/{Uri.EscapeDataString(model)}/predict";

        async Task<bool> PostAsync()
        {
            using var form = new MultipartFormDataContent();
            var part = new ByteArrayContent(jpeg);
            part.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/jpeg");
            form.Add(part, "files", "bench.jpg");
            try
            {
                using var response = await http.PostAsync(url, form, cli.CancellationToken);
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }

        cli.Progress.Report($"Warming up {model}", 0, 1);
        for (var i = 0; i < 20; i++)
        {
            if (!await PostAsync())
                throw new ApiRequestException($"POST {http.BaseAddress}{url} failed; is the app running and is '{model}' a model id from GET /api/models?");
        }
        // Then as many clients as the busiest level for a few seconds, so the runtime has compiled
        // the request path at its optimising tier (and the batcher's pass at that batch size has run)
        // before anything is timed: a served app spends its life there, not in its first minute.
        // (No longer than one level, so a short smoke run stays short.)
        var warmUp = TimeSpan.FromSeconds(Math.Min(WarmUp.TotalSeconds, seconds));
        var warmUpRequests = 20;
        var warm = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients.Max()).Select(async _ =>
        {
            while (warm.Elapsed < warmUp)
            {
                await PostAsync();
                Interlocked.Increment(ref warmUpRequests);
            }
        }));

        var levels = new List<ApiBenchLevel>();
        foreach (var level in clients)
        {
            cli.Progress.Report($"{model}, {level} client{(level == 1 ? "" : "s")}", 0, 1);
            var latencies = new List<double>();
            var errors = 0;
            var processorBefore = processorTime?.Invoke();
            var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, level).Select(async _ =>
            {
                while (clock.Elapsed.TotalSeconds < seconds)
                {
                    var started = Stopwatch.GetTimestamp();
                    var ok = await PostAsync();
                    var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    lock (latencies)
                    {
                        if (ok)
                            latencies.Add(milliseconds);
                        else
                            errors++;
                    }
                }
            }));
            var elapsed = clock.Elapsed.TotalSeconds;
            var clientMs = (Process.GetCurrentProcess().TotalProcessorTime - clientBefore).TotalMilliseconds;
            double? processorMs = processorBefore is { } before && latencies.Count > 0
                ? Math.Round((processorTime!() - before).TotalMilliseconds / latencies.Count, 2)
                : null;
            latencies.Sort();
            levels.Add(new ApiBenchLevel(
                level,
                latencies.Count,
                errors,
                Math.Round(latencies.Count / elapsed, 1),
                latencies.Count == 0 ? 0 : Math.Round(latencies[latencies.Count / 2], 2),
                latencies.Count == 0 ? 0 : Math.Round(latencies[(int)(latencies.Count * 0.95)], 2))
            {
                AppProcessorMsPerPrediction = processorMs,
                ClientProcessorMsPerPrediction = latencies.Count == 0 ? null : Math.Round(clientMs / latencies.Count, 2),
            });
        }
        cli.Progress.Clear();
        return new ApiBenchReport(model, seconds, warmUpRequests, levels);
    }
}

/// <summary>The running app's HTTP API did not answer a request as asked.</summary>
internal sealed class ApiRequestException(string message) : Exception(message);
