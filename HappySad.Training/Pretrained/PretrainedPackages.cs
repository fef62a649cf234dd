namespace HappySad.Training.Pretrained;

/// <summary>
/// This process's pretrained weights: one cache folder and registry (<see cref="PretrainedOptions"/>)
/// for every package, and one <see cref="NpmPackageCache"/> per package, so every user of a package's
/// weights shares its one download.
/// </summary>
/// <remarks>
/// The networks are found from deep in the library (detectors, pretrained models), so there is one
/// set of options per process: a host chooses them with <see cref="Use"/> (<c>AddHappySadTraining</c>);
/// otherwise the environment does (<see cref="PretrainedOptions.FromEnvironment"/>).
/// </remarks>
public static class PretrainedPackages
{
    static readonly Lock Gate = new();
    static readonly Dictionary<string, NpmPackageCache> Caches = new(StringComparer.Ordinal);
    static PretrainedOptions? _options;
    static HttpClient? _http;

    public static PretrainedOptions Options
    {
        get
        {
            lock (Gate)
                return _options ??= PretrainedOptions.FromEnvironment();
        }
    }

    /// <summary>
    /// Makes <paramref name="options"/> this process's. Asking again for the same options is fine;
    /// asking for other ones once weights have been looked for is refused, with both named.
    /// </summary>
    public static PretrainedOptions Use(PretrainedOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (Gate)
        {
            _options ??= options;
            return _options == options
                ? _options
                : throw new InvalidOperationException(
                    $"this process already keeps pretrained weights in {_options.CacheDirectory} from {_options.RegistryUrl}; it cannot switch to {options.CacheDirectory} from {options.RegistryUrl}");
        }
    }

    /// <summary>The process's cache of <paramref name="package"/>.</summary>
    public static NpmPackageCache Cache(NpmPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        lock (Gate)
        {
            _options ??= PretrainedOptions.FromEnvironment();
            // Downloads time themselves out (PretrainedOptions.DownloadTimeout), body included.
            _http ??= new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            if (!Caches.TryGetValue(package.Label, out var cache))
                Caches[package.Label] = cache = new NpmPackageCache(package, _options, _http);
            return cache;
        }
    }
}
