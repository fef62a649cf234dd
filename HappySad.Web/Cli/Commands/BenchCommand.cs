using System.Globalization;
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

    public static async Task<int> RunAsync(CliContext cli, CliArguments args)
    {
        if (args.Optional("api") is { } api)
            return await ApiAsync(cli, args, api);
        var data = args.Required("data");
        var epochs = args.Int("epochs", 2, min: 1);
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
        var (p50, p95) = MeasurePrediction(new ImageClassifier(model, card, device), MakeJpeg(folder.Files[0].Path, 1155, 866));
        var (faceP50, faceP95, noFaceP50, noFaceP95) = MeasureFaceModel(folder.Files[0].Path, device);

        await cli.WriteJsonAsync(new
        {
            device = device.type.ToString().ToLowerInvariant(),
            processors = Environment.ProcessorCount,
            torch_threads = torch.get_num_threads(),
            images = load.Images.Count,
            decode_images_per_second = Math.Round(decodePerSecond, 1),
            training_images_per_second = Math.Round(trainingPerSecond, 1),
            training_first_epoch_images_per_second = Math.Round(load.Images.Count / history.Epochs[0].Seconds, 1),
            training_gflops = Math.Round(trainingGflops, 1),
            matmul_gflops = Math.Round(matmulGflops, 1),
            training_to_matmul_ratio = Math.Round(trainingGflops / matmulGflops, 3),
            predict_1mp_jpeg_p50_ms = Math.Round(p50, 2),
            predict_1mp_jpeg_p95_ms = Math.Round(p95, 2),
            face_model = FaceVerdictClassifier.ArchitectureName,
            face_detection = FaceDetection.Default.Describe(),
            predict_face_model_1mp_jpeg_p50_ms = Math.Round(faceP50, 2),
            predict_face_model_1mp_jpeg_p95_ms = Math.Round(faceP95, 2),
            predict_face_model_no_face_1mp_jpeg_p50_ms = Math.Round(noFaceP50, 2),
            predict_face_model_no_face_1mp_jpeg_p95_ms = Math.Round(noFaceP95, 2),
            peak_working_set_mb = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0), 0),
            allocator_tuned = TorchRuntime.AllocatorTuned,
        });
        return 0;
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
    /// The best preset's model (untrained: its three numbers do not change the cost) on the same
    /// 1-megapixel JPEG, a portrait whose face is found at the first look, and on one without a face
    /// (a smooth colour field), where every extra look runs before it falls back to the no-face lean.
    /// </summary>
    static (double FaceP50, double FaceP95, double NoFaceP50, double NoFaceP95) MeasureFaceModel(string portrait, torch.Device device)
    {
        var model = ModelArchitectures.Create(FaceVerdictClassifier.ArchitectureName, seed: 1);
        var card = new ModelCard
        {
            Architecture = FaceVerdictClassifier.ArchitectureName,
            ClassNames = ["happy", "sad"],
            Preprocessing = new Preprocessing { InputSize = FaceVerdictClassifier.InputSize, Crop = CropMode.FaceAndWhole, FaceDetection = FaceDetection.Default },
        };
        using var classifier = new ImageClassifier(model, card, device);
        var (faceP50, faceP95) = MeasurePrediction(classifier, MakeJpeg(portrait, 1155, 866));
        using var field = new SKBitmap(1155, 866);
        using (var canvas = new SKCanvas(field))
        using (var paint = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(1155, 866), [SKColors.SkyBlue, SKColors.Orange], SKShaderTileMode.Clamp) })
            canvas.DrawRect(0, 0, 1155, 866, paint);
        using var image = SKImage.FromBitmap(field);
        using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        var (noFaceP50, noFaceP95) = MeasurePrediction(classifier, encoded.ToArray(), samples: 40);
        return (faceP50, faceP95, noFaceP50, noFaceP95);
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
    /// <c>bench --api URL --model ID --data DIR [--clients 8] [--seconds 20]</c>: end-to-end latency of
    /// <c>POST /api/models/{id}/predict</c> with one 1-megapixel JPEG over loopback against a running
    /// app (200 sequential requests after 20 warm-up ones), then throughput with concurrent clients.
    /// </summary>
    static async Task<int> ApiAsync(CliContext cli, CliArguments args, string api)
    {
        var model = args.Required("model");
        var data = args.Required("data");
        var clients = args.Int("clients", 8, min: 1);
        var seconds = args.Int("seconds", 20, min: 1);
        var source = ImageFolder.Open(data).Files[0].Path;
        var jpeg = MakeJpeg(source, 1155, 866);
        using var http = new HttpClient { BaseAddress = new Uri(api), Timeout = TimeSpan.FromSeconds(60) };
        var url = $"api/models/{Uri.EscapeDataString(model)}/predict";

        async Task<bool> PostAsync()
        {
            using var form = new MultipartFormDataContent();
            var part = new ByteArrayContent(jpeg);
            part.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/jpeg");
            form.Add(part, "files", "bench.jpg");
            using var response = await http.PostAsync(url, form, cli.CancellationToken);
            return response.IsSuccessStatusCode;
        }

        for (var i = 0; i < 20; i++)
        {
            if (!await PostAsync())
                throw new ApiRequestException($"POST {api}{url} failed; is the app running and is '{model}' a model id from GET /api/models?");
        }
        var samples = new double[200];
        var errors = 0;
        for (var i = 0; i < samples.Length; i++)
        {
            var clock = Stopwatch.StartNew();
            errors += await PostAsync() ? 0 : 1;
            samples[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(samples);

        var deadline = Stopwatch.StartNew();
        var completed = 0;
        var failed = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (deadline.Elapsed.TotalSeconds < seconds)
            {
                try
                {
                    if (await PostAsync())
                        Interlocked.Increment(ref completed);
                    else
                        Interlocked.Increment(ref failed);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }));
        var throughput = completed / deadline.Elapsed.TotalSeconds;

        if (args.Flag("json"))
        {
            await cli.WriteJsonAsync(new { api_p50_ms = samples[100], api_p95_ms = samples[190], sequential_errors = errors, clients, seconds, predictions_per_second = throughput, concurrent_errors = failed });
            return 0;
        }
        cli.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"API predict, 1 MP JPEG over loopback: p50 {samples[100]:0.00} ms, p95 {samples[190]:0.00} ms ({errors} errors in 200)"));
        cli.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clients} concurrent clients for {seconds} s: {throughput:0.0} predictions/s, {failed} errors"));
        return 0;
    }
}

/// <summary>The running app's HTTP API did not answer a request as asked.</summary>
internal sealed class ApiRequestException(string message) : Exception(message);
