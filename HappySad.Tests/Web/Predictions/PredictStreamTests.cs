using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using HappySad.Tests.Support;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Web.Storage;

namespace HappySad.Tests.Web.Predictions;

/// <summary>The predict API's streamed answer: many photos in, one JSON line per photo out as each finishes.</summary>
public sealed class PredictStreamTests : IDisposable
{
    readonly HappySadAppFactory _app = new(new Dictionary<string, string> { ["UploadLimits:MaxPartsPerRequest"] = "30" });
    readonly HttpClient _client;

    // No redirect handler: it buffers request bodies, and the streaming test needs one sent in pieces.
    public PredictStreamTests() => _client = _app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    string AddModelFile()
    {
        var file = Path.Combine(_app.Service<StoragePaths>().ModelsRoot, "m" + ModelStore.Extension);
        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, 5);
        ModelStore.Save(file, model, new ModelCard { Architecture = SeedCnn.ArchitectureName, ClassNames = ["happy", "sad"] });
        return "file-m";
    }

    static List<(string Name, byte[] Bytes)> Photos(int count) =>
        [.. Directory.EnumerateFiles(Path.Combine(SharedPhotos.Root, "sad")).Order(StringComparer.Ordinal)
            .Where(f => new FileInfo(f).Length < 400_000).Take(count).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))];

    async Task<List<JsonElement>> StreamAsync(string id, IEnumerable<(string Name, byte[] Bytes)> files)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{id}/predict") { Content = Multipart.Files([.. files]) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)];
    }

    [Fact]
    public async Task EveryPhotoGetsItsOwnLineWithItsNameAndBadOnesSayWhy()
    {
        var id = AddModelFile();
        var photos = Photos(16);
        List<(string Name, byte[] Bytes)> sent = [.. photos, ("notes.jpg", "just text"u8.ToArray()), ("empty.jpg", [])];

        var lines = await StreamAsync(id, sent);

        Assert.Equal(sent.Count, lines.Count);
        Assert.Equal(Enumerable.Range(0, sent.Count), lines.Select(l => l.GetProperty("index").GetInt32()).Order());
        foreach (var line in lines)
            Assert.Equal(sent[line.GetProperty("index").GetInt32()].Name, line.GetProperty("name").GetString());
        var errors = lines.Where(l => l.GetProperty("error").ValueKind == JsonValueKind.String).ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("error").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["notes.jpg"] = "file is text, not an image", ["empty.jpg"] = "file is empty (0 bytes)" }, errors);

        // The same probabilities as the one-document answer.
        var document = await (await _client.PostAsync($"/api/models/{id}/predict", Multipart.Files([.. photos]))).Content.ReadFromJsonAsync<JsonElement>();
        var expected = document.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("probability").GetDouble());
        var streamed = lines.Where(l => l.GetProperty("error").ValueKind == JsonValueKind.Null).ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("probability").GetDouble());
        Assert.Equal(expected.Keys.Order(), streamed.Keys.Order());
        Assert.All(expected, e => Assert.Equal(e.Value, streamed[e.Key], 1e-6));
    }

    [Fact]
    public async Task AVerdictArrivesBeforeTheRestOfTheBodyIsSent()
    {
        var id = AddModelFile();
        var photos = Photos(3);
        var firstLineRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{id}/predict") { Content = new HeldBack(Multipart.Files([.. photos]), firstLineRead.Task) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = JsonDocument.Parse((await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)))!).RootElement;
        firstLineRead.SetResult();
        var rest = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(photos[0].Name, first.GetProperty("name").GetString());
        Assert.Equal(photos.Count - 1, rest.Length);
    }

    [Fact]
    public async Task StreamsSideBySideHoldNoMorePhotosInMemoryThanTheServerAllows()
    {
        using var app = new HappySadAppFactory(new Dictionary<string, string> { ["PredictionOptions:MaxImagesInMemory"] = "2" });
        using var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var file = Path.Combine(app.Service<StoragePaths>().ModelsRoot, "m" + ModelStore.Extension);
        using (var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, 5))
            ModelStore.Save(file, model, new ModelCard { Architecture = SeedCnn.ArchitectureName, ClassNames = ["happy", "sad"] });
        var photos = Photos(8);

        async Task<List<JsonElement>> Stream()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/models/file-m/predict") { Content = Multipart.Files([.. photos]) };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var text = await response.Content.ReadAsStringAsync();
            return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)];
        }

        var streams = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Stream()));

        Assert.All(streams, lines => Assert.Equal(photos.Count, lines.Count(l => l.GetProperty("error").ValueKind == JsonValueKind.Null)));
        Assert.InRange(app.Service<HappySad.Web.Predictions.PredictionService>().MostImagesInMemory, 1, 2);
    }

    [Fact]
    public async Task PartsPastTheLimitEndTheStreamWithAProblemLine()
    {
        var id = AddModelFile();
        var photo = Photos(1)[0];

        var lines = await StreamAsync(id, Enumerable.Range(0, 32).Select(i => ($"{i}.jpg", photo.Bytes)));

        Assert.Equal(30, lines.Count(l => l.TryGetProperty("name", out _)));
        var last = lines[^1];
        Assert.Equal(413, last.GetProperty("status").GetInt32());
        Assert.Contains("more than 30 parts", last.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A multipart body whose first part (and the boundary that ends it) goes out at once and whose
    /// remainder waits for the release task: the answer can only begin before it if the server streams.
    /// </summary>
    sealed class HeldBack : HttpContent
    {
        readonly MultipartFormDataContent _form;
        readonly Task _release;

        public HeldBack(MultipartFormDataContent form, Task release)
        {
            (_form, _release) = (form, release);
            Headers.ContentType = form.Headers.ContentType;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var all = await _form.ReadAsByteArrayAsync();
            var delimiter = System.Text.Encoding.ASCII.GetBytes("--" + _form.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"') + "\r\n");
            var split = SecondIndexOf(all, delimiter) + delimiter.Length;
            await stream.WriteAsync(all.AsMemory(0, split));
            await stream.FlushAsync();
            await _release.WaitAsync(TimeSpan.FromSeconds(60));
            await stream.WriteAsync(all.AsMemory(split));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }

        static int SecondIndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0, seen = 0; i <= haystack.Length - needle.Length; i++)
            {
                if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle) && seen++ == 1)
                    return i;
            }
            throw new InvalidOperationException("the form has one part");
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _app.Dispose();
    }
}
