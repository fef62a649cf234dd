using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace HappySad.Training.Pretrained;

/// <summary>Pretrained weights could not be obtained; the message says what to do, in one line.</summary>
public sealed class PretrainedUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// <see cref="FaceApiPackage"/>'s files in one cache folder: the tarball is downloaded once, checked
/// against the registry's published SHA-512, and the files we use are unpacked into a staging folder
/// that is then moved into place, so no reader, in this process or another, sees half a file.
/// </summary>
/// <remarks>
/// Callers that arrive while a download is under way wait for that same download. A caller's
/// cancellation ends its own wait only: the others still want the files, so the download runs on
/// until it is done or the <see cref="HttpClient"/>'s timeout gives it up.
/// </remarks>
public sealed class FaceApiCache
{
    readonly HttpClient _http;
    readonly string _integrity;
    readonly Lock _gate = new();
    Task? _download;

    public FaceApiCache(PretrainedOptions options, HttpClient http)
        : this(options, http, FaceApiPackage.Integrity)
    {
    }

    /// <summary>For tests, which serve a tarball of their own and so know another digest.</summary>
    internal FaceApiCache(PretrainedOptions options, HttpClient http, string integrity)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);
        Options = options;
        _http = http;
        _integrity = integrity;
    }

    public PretrainedOptions Options { get; }

    public string Directory => Path.Combine(Options.CacheDirectory, $"face-api-{FaceApiPackage.Version}");

    /// <summary>Whether the weights are here (the sample photos are for the port tests, and a cache filled by hand may lack them).</summary>
    public bool IsAvailable => FaceApiPackage.Models.All(m => File.Exists(ManifestPath(m)));

    bool SamplesAvailable => FaceApiPackage.SampleNames.All(s => File.Exists(SamplePath(s)));

    public string ManifestPath(string model) => Path.Combine(Directory, $"{model}-weights_manifest.json");

    public string SamplePath(string name) => Path.Combine(Directory, name);

    bool Ready(bool withSamples) => IsAvailable && (!withSamples || SamplesAvailable);

    /// <summary>Makes sure the weights (and, when asked, the sample photos) are here, downloading the package if they are not.</summary>
    /// <exception cref="PretrainedUnavailableException">The package could not be downloaded, or is not the one published.</exception>
    public Task EnsureAsync(bool withSamples = false, CancellationToken cancellationToken = default)
    {
        if (Ready(withSamples))
            return Task.CompletedTask;
        Task download;
        lock (_gate)
        {
            // A finished download is not reused: after a failure this caller tries again, and after
            // a success the files have gone since. Task.Run keeps the download out of the lock even
            // when the HTTP answer is already there.
            if (_download is not { IsCompleted: false })
                _download = Task.Run(DownloadAsync, CancellationToken.None);
            download = _download;
        }
        return download.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// <see cref="EnsureAsync"/> for callers that are synchronous all the way (the command line, the
    /// port tests, building a model to train). Request paths await <see cref="EnsureAsync"/> first, so
    /// this finds the files and never waits on the network there.
    /// </summary>
    public void Ensure(bool withSamples = false)
    {
        if (!Ready(withSamples))
            EnsureAsync(withSamples).GetAwaiter().GetResult();
    }

    async Task DownloadAsync()
    {
        // Another process may have filled the cache while this one was looking.
        if (Ready(withSamples: true))
            return;
        var url = $"{Options.RegistryUrl.TrimEnd('/')}/{FaceApiPackage.Name}/-/face-api-{FaceApiPackage.Version}.tgz";
        byte[] tarball;
        try
        {
            tarball = await _http.GetByteArrayAsync(new Uri(url)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            throw new PretrainedUnavailableException(
                $"face models need the pretrained weights of {FaceApiPackage.Label}, which could not be downloaded from {url} ({e.Message}); " +
                $"unpack the package's model/ files into {Directory} or set HAPPYSAD_NPM_REGISTRY", e);
        }
        Unpack(tarball, url);
    }

    void Unpack(byte[] tarball, string url)
    {
        var digest = "sha512-" + Convert.ToBase64String(SHA512.HashData(tarball));
        if (digest != _integrity)
            throw new PretrainedUnavailableException($"the {FaceApiPackage.Label} tarball from {url} does not match the registry's published SHA-512; refusing to use it");

        var wanted = FaceApiPackage.Models.SelectMany(m => (string[])[$"package/model/{m}-weights_manifest.json", $"package/model/{m}.bin"])
            .Concat(FaceApiPackage.SampleNames.Select(s => $"package/demo/{s}"))
            .Append("package/LICENSE")
            .ToHashSet(StringComparer.Ordinal);
        System.IO.Directory.CreateDirectory(Options.CacheDirectory);
        var staging = Path.Combine(Options.CacheDirectory, $".face-api-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(staging);
        try
        {
            using (var gzip = new GZipStream(new MemoryStream(tarball), CompressionMode.Decompress))
            using (var tar = new TarReader(gzip))
            {
                while (tar.GetNextEntry() is { } entry)
                {
                    if (entry.DataStream is null || !wanted.Remove(entry.Name))
                        continue;
                    using var file = File.Create(Path.Combine(staging, Path.GetFileName(entry.Name)));
                    entry.DataStream.CopyTo(file);
                }
            }
            if (wanted.Count > 0)
                throw new PretrainedUnavailableException($"the {FaceApiPackage.Label} tarball lacks {string.Join(", ", wanted)}");
            // Another process may have won the race; its copy is as good as ours.
            if (Ready(withSamples: true))
                return;
            if (System.IO.Directory.Exists(Directory))
                System.IO.Directory.Delete(Directory, recursive: true);
            System.IO.Directory.Move(staging, Directory);
        }
        finally
        {
            if (System.IO.Directory.Exists(staging))
                System.IO.Directory.Delete(staging, recursive: true);
        }
    }
}
