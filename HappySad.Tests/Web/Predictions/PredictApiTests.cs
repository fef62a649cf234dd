using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Prediction;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Web.Predictions;
using HappySad.Web.Storage;

namespace HappySad.Tests.Web.Predictions;

/// <summary>The predict API's answers and status codes, and the model cache behind it.</summary>
public sealed class PredictApiTests : IDisposable
{
    readonly HappySadAppFactory _app = new(new Dictionary<string, string>
    {
        ["PredictionOptions:CachedModels"] = "1",
        ["UploadLimits:MaxImageBytes"] = "300000",
        // Wide enough that concurrent requests on a busy machine share batches; a lone request never waits.
        ["PredictionOptions:BatchWindowMilliseconds"] = "100",
    });
    readonly HttpClient _client;

    public PredictApiTests() => _client = _app.CreateClient();

    static readonly string HappyPhoto = Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg");
    static readonly string SadPhoto = Path.Combine(SharedPhotos.Root, "sad", "0x0.jpg");

    /// <summary>An (untrained, seeded) model file dropped into the models folder, as a person may copy one there.</summary>
    string AddModelFile(string name, int seed)
    {
        var file = Path.Combine(_app.Service<StoragePaths>().ModelsRoot, name + ModelStore.Extension);
        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, seed);
        ModelStore.Save(file, model, new ModelCard { Architecture = SeedCnn.ArchitectureName, ClassNames = ["happy", "sad"] });
        return "file-" + name;
    }

    static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files) => Multipart.Files(files);

    [Fact]
    public async Task EachImageGetsALabelClassProbabilitiesAndItsTime()
    {
        var id = AddModelFile("a", 1);
        var models = await _client.GetFromJsonAsync<JsonElement>("/api/models");
        Assert.Equal(id, models[0].GetProperty("id").GetString());

        var response = await _client.PostAsync($"/api/models/{id}/predict", Form(("happy.jpg", await File.ReadAllBytesAsync(HappyPhoto)), ("sad.jpg", await File.ReadAllBytesAsync(SadPhoto))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var files = body.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(["happy.jpg", "sad.jpg"], files.Select(f => f.GetProperty("name").GetString()));
        Assert.Equal([0, 1], files.Select(f => f.GetProperty("index").GetInt32()));
        foreach (var file in files)
        {
            var p = file.GetProperty("probabilities");
            Assert.Equal(1.0, p.GetProperty("happy").GetDouble() + p.GetProperty("sad").GetDouble(), 9);
            var label = file.GetProperty("label").GetString()!;
            Assert.Equal(label == "sad", p.GetProperty("sad").GetDouble() > 0.5);
            Assert.True(file.GetProperty("milliseconds").GetDouble() > 0);
        }
    }

    [Fact]
    public async Task ErrorsAreProblemDetailsWithTheRightStatus()
    {
        var id = AddModelFile("a", 1);
        var jpeg = await File.ReadAllBytesAsync(HappyPhoto);

        var unknown = await _client.PostAsync("/api/models/run-999/predict", Form(("x.jpg", jpeg)));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType!.MediaType);

        var text = await _client.PostAsync($"/api/models/{id}/predict", Form(("notes.jpg", "just text"u8.ToArray())));
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
        Assert.Equal("notes.jpg: file is text, not an image", (await text.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());

        var svg = await _client.PostAsync($"/api/models/{id}/predict", Form(("smile.png", "<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray())));
        Assert.Equal(HttpStatusCode.BadRequest, svg.StatusCode);
        Assert.Contains("SVG", (await svg.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var big = await File.ReadAllBytesAsync(Path.Combine(SharedPhotos.Root, "happy", "MV5BMTM3ODM0NTQ1MF5BMl5BanBnXkFtZTcwMzAxMTM5OA._V1_.jpg"));
        var tooLarge = await _client.PostAsync($"/api/models/{id}/predict", Form(("big.png", big)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("over the 293 KB limit", (await tooLarge.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var none = await _client.PostAsync($"/api/models/{id}/predict", new MultipartFormDataContent { { new StringContent("x"), "note" } });
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);

        // One bad file does not spoil the batch: the good one is labelled, the bad one says why.
        var mixed = await _client.PostAsync($"/api/models/{id}/predict", Form(("good.jpg", jpeg), ("bad.jpg", [])));
        Assert.Equal(HttpStatusCode.OK, mixed.StatusCode);
        var files = (await mixed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("files");
        Assert.NotNull(files[0].GetProperty("label").GetString());
        Assert.Equal("file is empty (0 bytes)", files[1].GetProperty("error").GetString());
    }

    [Fact]
    public async Task APhotoBiggerThanTheFirstReadBufferIsReadWholeAndReadAsFromDisk()
    {
        // A 1000x1000 noise PNG is about 3 MB: the pooled read buffer (512 KB at first) grows three times.
        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["UploadLimits:MaxImageBytes"] = "8000000" });
        using var client = app.CreateClient();
        var file = Path.Combine(app.Service<StoragePaths>().ModelsRoot, "big" + ModelStore.Extension);
        using (var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 4))
            ModelStore.Save(file, model, new ModelCard { Architecture = SeedCnn.ArchitectureName, ClassNames = ["happy", "sad"] });
        var pixels = new byte[1000 * 1000 * 4];
        new Random(9).NextBytes(pixels);
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(1000, 1000, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        var bytes = png.ToArray();
        Assert.InRange(bytes.Length, 2_000_000, 8_000_000);

        var response = await client.PostAsync("/api/models/file-big/predict", Form(("noise.png", bytes)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var verdict = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("files")[0];
        Assert.Equal((1000, 1000), (verdict.GetProperty("width").GetInt32(), verdict.GetProperty("height").GetInt32()));
        using var classifier = ModelStore.Load(file);
        var expected = classifier.Predict(bytes).ClassProbabilities["sad"];
        Assert.Equal(expected, verdict.GetProperty("probabilities").GetProperty("sad").GetDouble(), 6);
    }

    [Fact]
    public async Task ConcurrentRequestsGetTheSameAnswersAsSequentialOnes()
    {
        var id = AddModelFile("a", 2);
        var photos = Directory.EnumerateFiles(Path.Combine(SharedPhotos.Root, "happy")).Order(StringComparer.Ordinal)
            .Where(f => new FileInfo(f).Length is > 10_000 and < 250_000).Take(8).ToList();

        async Task<double> SadProbability(string photo)
        {
            var response = await _client.PostAsync($"/api/models/{id}/predict", Form((Path.GetFileName(photo), await File.ReadAllBytesAsync(photo))));
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return body.GetProperty("files")[0].GetProperty("probabilities").GetProperty("sad").GetDouble();
        }

        var sequential = new List<double>();
        foreach (var photo in photos)
            sequential.Add(await SadProbability(photo));
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).SelectMany(_ => photos).Select(SadProbability));

        // Within 1e-6, not bitwise: a batch runs libtorch's kernels for its size (PredictionBatcherTests).
        Assert.All(concurrent.Select((p, i) => Math.Abs(p - sequential[i % sequential.Count])), d => Assert.True(d < 1e-6, $"differs by {d:E2}"));
        Assert.Equal(1, _app.Service<ModelCache>().Loads);
        using var lease = _app.Service<ModelCache>().Rent(Path.Combine(_app.Service<StoragePaths>().ModelsRoot, "a" + ModelStore.Extension));
        Assert.True(lease.Batcher.LargestBatch > 1, "concurrent requests should have shared a forward pass");
    }

    [Fact]
    public async Task TheCacheKeepsTheMostRecentlyUsedModelsAndEvictsTheRest()
    {
        var a = AddModelFile("a", 1);
        var b = AddModelFile("b", 2);
        var jpeg = await File.ReadAllBytesAsync(HappyPhoto);
        var cache = _app.Service<ModelCache>();

        foreach (var model in new[] { a, a, b, b, a })
            Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/api/models/{model}/predict", Form(("x.jpg", jpeg)))).StatusCode);

        // Capacity 1: a loaded, reused, evicted by b, b reused, a loaded again.
        Assert.Equal(3, cache.Loads);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task AModelFileReplacedWhileInUseIsLoadedAgainAndTheOldCopyServesItsLeaseToTheEnd()
    {
        AddModelFile("a", 1);
        var file = Path.Combine(_app.Service<StoragePaths>().ModelsRoot, "a" + ModelStore.Extension);
        var cache = _app.Service<ModelCache>();
        var image = ImageDecoder.Decode(await File.ReadAllBytesAsync(HappyPhoto), 256);
        PredictionBatcher oldBatcher;

        using (var old = cache.Rent(file))
        {
            oldBatcher = old.Batcher;
            var before = (await old.Batcher.PredictAsync(() => image)).ClassProbabilities["sad"];
            AddModelFile("a", 2);
            File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddMinutes(1));
            using (var fresh = cache.Rent(file))
            {
                Assert.NotSame(old.Classifier, fresh.Classifier);
                Assert.NotEqual(before, (await fresh.Batcher.PredictAsync(() => image)).ClassProbabilities["sad"]);
                Assert.Equal(before, (await old.Batcher.PredictAsync(() => image)).ClassProbabilities["sad"]);
            }
            Assert.Equal((2, 1), (cache.Loads, cache.Count));
        }

        // The replaced copy's last lease is over: it is gone, and the new one stays.
        Assert.IsType<ObjectDisposedException>(Record.Exception(() => { _ = oldBatcher.PredictAsync(() => image); }));
        using var again = cache.Rent(file);
        Assert.Equal(2, cache.Loads);
    }

    /// <summary>A model file deleted after it was listed and loaded (its run deleted) is a 404, and its loaded copy goes.</summary>
    [Fact]
    public async Task AModelDeletedAfterItWasLoadedIsNotFoundAndItsCopyGoes()
    {
        var id = AddModelFile("a", 1);
        var file = Path.Combine(_app.Service<StoragePaths>().ModelsRoot, "a" + ModelStore.Extension);
        var cache = _app.Service<ModelCache>();
        using (cache.Rent(file))
            Assert.Equal(1, cache.Count);
        // Listed (the catalogue's answer is cached), then gone.
        _ = await _app.Service<ModelCatalog>().GetAsync(id);
        File.Delete(file);

        Assert.IsType<FileNotFoundException>(Record.Exception(() => cache.Rent(file)));
        Assert.Equal(0, cache.Count);
        var response = await _client.PostAsync($"/api/models/{id}/predict", Form(("happy.jpg", await File.ReadAllBytesAsync(HappyPhoto))));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    public void Dispose()
    {
        _client.Dispose();
        _app.Dispose();
    }
}
