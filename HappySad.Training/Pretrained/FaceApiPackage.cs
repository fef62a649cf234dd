namespace HappySad.Training.Pretrained;

/// <summary>
/// The pretrained face networks of the npm package <c>@vladmandic/face-api</c> (MIT licence): its
/// tarball is fetched from the npm registry on first use, checked against the registry's published
/// SHA-512, and only the weight files we use are unpacked into a cache folder shared by every
/// HappySad process on the machine (<see cref="FaceApiCache"/>). Nothing pretrained is committed to
/// the repository.
/// </summary>
/// <remarks>
/// The cache folder and registry come from the host's <see cref="PretrainedOptions"/> (see <see cref="Use"/>). A machine
/// without network can be prepared by unpacking the tarball's <c>package/model/</c> files into
/// <c>{cache}/face-api-1.7.15/</c> (see README, "Face-aware models").
/// </remarks>
public static class FaceApiPackage
{
    public const string Name = "@vladmandic/face-api";
    public const string Version = "1.7.15";
    public const string Label = Name + "@" + Version;

    /// <summary>The <c>dist.integrity</c> npm publishes for this version.</summary>
    internal const string Integrity = "sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==";

    public const string TinyFaceDetector = "tiny_face_detector_model";
    public const string SsdMobilenetV1 = "ssd_mobilenetv1_model";
    public const string FaceExpression = "face_expression_model";
    internal static IReadOnlyList<string> Models { get; } = [TinyFaceDetector, SsdMobilenetV1, FaceExpression];

    /// <summary>The package's demo photos (people, MIT like the rest), which the port tests detect faces in.</summary>
    public static IReadOnlyList<string> SampleNames { get; } = [.. Enumerable.Range(1, 6).Select(i => $"sample{i}.jpg")];

    static readonly Lock Gate = new();
    static FaceApiCache? _cache;

    /// <summary>
    /// This process's cache: every user of the weights shares its one download. A host chooses it
    /// with <see cref="Use"/> (<c>AddHappySadTraining</c>); otherwise the environment does
    /// (<see cref="PretrainedOptions.FromEnvironment"/>).
    /// </summary>
    public static FaceApiCache Cache
    {
        get
        {
            lock (Gate)
                return _cache ??= Create(PretrainedOptions.FromEnvironment());
        }
    }

    /// <summary>
    /// Makes <paramref name="options"/> this process's cache. The networks are found from deep in the
    /// library (detectors, pretrained models), so there is one per process: asking again for the
    /// same options is fine, asking for other ones once the cache is in use is refused.
    /// </summary>
    public static FaceApiCache Use(PretrainedOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (Gate)
        {
            _cache ??= Create(options);
            return _cache.Options == options
                ? _cache
                : throw new InvalidOperationException(
                    $"this process already keeps pretrained weights in {_cache.Options.CacheDirectory} from {_cache.Options.RegistryUrl}; it cannot switch to {options.CacheDirectory} from {options.RegistryUrl}");
        }
    }

    static FaceApiCache Create(PretrainedOptions options) => new(options, new HttpClient { Timeout = options.DownloadTimeout });

    public static string Directory => Cache.Directory;

    /// <summary>Whether the weights are here (the sample photos are for the port tests, and a cache filled by hand may lack them).</summary>
    public static bool IsAvailable => Cache.IsAvailable;

    /// <summary>One of <see cref="SampleNames"/>, fetching the package first if this machine has not yet.</summary>
    public static string Sample(string name)
    {
        Cache.Ensure(withSamples: true);
        return Cache.SamplePath(name);
    }

    /// <summary>The weights manifest of one model, fetching the package first if this machine has not yet.</summary>
    public static string Manifest(string model)
    {
        Cache.Ensure();
        return Cache.ManifestPath(model);
    }

    /// <inheritdoc cref="FaceApiCache.Ensure"/>
    public static void Ensure(bool withSamples = false) => Cache.Ensure(withSamples);

    /// <inheritdoc cref="FaceApiCache.EnsureAsync"/>
    public static Task EnsureAsync(bool withSamples = false, CancellationToken cancellationToken = default) => Cache.EnsureAsync(withSamples, cancellationToken);
}
