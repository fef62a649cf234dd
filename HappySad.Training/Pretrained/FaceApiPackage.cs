using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace HappySad.Training.Pretrained;

/// <summary>Pretrained weights could not be obtained; the message says what to do, in one line.</summary>
public sealed class PretrainedUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The pretrained face networks of the npm package <c>@vladmandic/face-api</c> (MIT licence): its
/// tarball is fetched from the npm registry on first use, checked against the registry's published
/// SHA-512, and only the weight files we use are unpacked into a cache folder shared by every
/// HappySad process on the machine. Nothing pretrained is committed to the repository.
/// </summary>
/// <remarks>
/// The cache folder is <c>$HAPPYSAD_PRETRAINED_DIR</c>, else <c>$XDG_CACHE_HOME/happysad</c>, else
/// <c>~/.cache/happysad</c>. A machine without network can be prepared by unpacking the tarball's
/// <c>package/model/</c> files into <c>{cache}/face-api-1.7.15/</c> (see README, "Face-aware models").
/// The registry is <c>$HAPPYSAD_NPM_REGISTRY</c>, else <c>$npm_config_registry</c>, else registry.npmjs.org.
/// </remarks>
public static class FaceApiPackage
{
    public const string Name = "@vladmandic/face-api";
    public const string Version = "1.7.15";
    public const string Label = Name + "@" + Version;

    /// <summary>The <c>dist.integrity</c> npm publishes for this version.</summary>
    const string Integrity = "sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==";

    public const string TinyFaceDetector = "tiny_face_detector_model";
    public const string SsdMobilenetV1 = "ssd_mobilenetv1_model";
    public const string FaceExpression = "face_expression_model";
    static readonly string[] Models = [TinyFaceDetector, SsdMobilenetV1, FaceExpression];

    /// <summary>The package's demo photos (people, MIT like the rest), which the port tests detect faces in.</summary>
    public static IReadOnlyList<string> SampleNames { get; } = [.. Enumerable.Range(1, 6).Select(i => $"sample{i}.jpg")];

    static readonly Lock FetchLock = new();

    public static string CacheRoot =>
        Environment.GetEnvironmentVariable("HAPPYSAD_PRETRAINED_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(
                Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
                "happysad");

    public static string Directory => Path.Combine(CacheRoot, $"face-api-{Version}");

    static string Registry =>
        (Environment.GetEnvironmentVariable("HAPPYSAD_NPM_REGISTRY") is { Length: > 0 } registry ? registry
            : Environment.GetEnvironmentVariable("npm_config_registry") is { Length: > 0 } npm ? npm
            : "https://registry.npmjs.org/").TrimEnd('/');

    /// <summary>Whether the weights are here (the sample photos are for the port tests, and a cache filled by hand may lack them).</summary>
    public static bool IsAvailable => Models.All(m => File.Exists(ManifestPath(m)));

    static bool SamplesAvailable => SampleNames.All(s => File.Exists(Path.Combine(Directory, s)));

    /// <summary>One of <see cref="SampleNames"/>, fetching the package first if this machine has not yet.</summary>
    public static string Sample(string name)
    {
        Ensure(withSamples: true);
        return Path.Combine(Directory, name);
    }

    /// <summary>The weights manifest of one model, fetching the package first if this machine has not yet.</summary>
    public static string Manifest(string model)
    {
        Ensure();
        return ManifestPath(model);
    }

    static string ManifestPath(string model) => Path.Combine(Directory, $"{model}-weights_manifest.json");

    /// <summary>Makes sure the weights (and, when asked, the sample photos) are in the cache: downloads, verifies and unpacks them once.</summary>
    public static void Ensure(bool withSamples = false)
    {
        bool Ready() => IsAvailable && (!withSamples || SamplesAvailable);
        if (Ready())
            return;
        lock (FetchLock)
        {
            if (Ready())
                return;
            var url = $"{Registry}/{Name}/-/face-api-{Version}.tgz";
            byte[] tarball;
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
                tarball = http.GetByteArrayAsync(new Uri(url)).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
            {
                throw new PretrainedUnavailableException(
                    $"face models need the pretrained weights of {Label}, which could not be downloaded from {url} ({e.Message}); " +
                    $"unpack the package's model/ files into {Directory} or set HAPPYSAD_NPM_REGISTRY", e);
            }
            Unpack(tarball, url);
        }
    }

    static void Unpack(byte[] tarball, string url)
    {
        var digest = "sha512-" + Convert.ToBase64String(SHA512.HashData(tarball));
        if (digest != Integrity)
            throw new PretrainedUnavailableException($"the {Label} tarball from {url} does not match the registry's published SHA-512; refusing to use it");

        var wanted = Models.SelectMany(m => (string[])[$"package/model/{m}-weights_manifest.json", $"package/model/{m}.bin"])
            .Concat(SampleNames.Select(s => $"package/demo/{s}"))
            .Append("package/LICENSE")
            .ToHashSet(StringComparer.Ordinal);
        System.IO.Directory.CreateDirectory(CacheRoot);
        var staging = Path.Combine(CacheRoot, $".face-api-{Guid.NewGuid():N}");
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
                throw new PretrainedUnavailableException($"the {Label} tarball lacks {string.Join(", ", wanted)}");
            // Another process may have won the race; its copy is as good as ours.
            if (IsAvailable && SamplesAvailable)
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
