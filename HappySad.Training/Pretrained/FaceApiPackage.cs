namespace HappySad.Training.Pretrained;

/// <summary>
/// The pretrained face networks of the npm package <c>@vladmandic/face-api</c> (MIT licence): its
/// tarball is fetched from the npm registry on first use, checked against the registry's published
/// SHA-512, and only the weight files we use are unpacked into a cache folder shared by every
/// HappySad process on the machine (<see cref="PretrainedPackages"/>). Nothing pretrained is
/// committed to the repository.
/// </summary>
/// <remarks>
/// A machine without network can be prepared by unpacking the tarball's <c>package/model/</c> files
/// into <c>{cache}/face-api-1.7.15/</c> (see README, "Face-aware models").
/// </remarks>
public static class FaceApiPackage
{
    public const string Name = "@vladmandic/face-api";
    public const string Version = "1.7.15";
    public const string Label = Name + "@" + Version;

    public const string TinyFaceDetector = "tiny_face_detector_model";
    public const string SsdMobilenetV1 = "ssd_mobilenetv1_model";
    public const string FaceExpression = "face_expression_model";
    internal static IReadOnlyList<string> Models { get; } = [TinyFaceDetector, SsdMobilenetV1, FaceExpression];

    /// <summary>The package's demo photos (people, MIT like the rest), which the port tests detect faces in.</summary>
    public static IReadOnlyList<string> SampleNames { get; } = [.. Enumerable.Range(1, 6).Select(i => $"sample{i}.jpg")];

    /// <summary>What is fetched, and checked against the <c>dist.integrity</c> npm publishes for this version.</summary>
    public static NpmPackage Package { get; } = new(
        Name,
        Version,
        "sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==",
        [.. Models.SelectMany(m => (string[])[$"model/{m}-weights_manifest.json", $"model/{m}.bin"])],
        [.. SampleNames.Select(s => $"demo/{s}"), "LICENSE"],
        "face models");

    /// <summary>This process's cache of the package.</summary>
    public static NpmPackageCache Cache => PretrainedPackages.Cache(Package);

    public static string Directory => Cache.Directory;

    /// <summary>Whether the weights are here (the sample photos are for the port tests, and a cache filled by hand may lack them).</summary>
    public static bool IsAvailable => Cache.IsAvailable;

    /// <summary>One of <see cref="SampleNames"/>, fetching the package first if this machine has not yet.</summary>
    public static string Sample(string name)
    {
        Cache.Ensure(withExtras: true);
        return Cache.PathOf(name);
    }

    /// <summary>The weights manifest of one model, fetching the package first if this machine has not yet.</summary>
    public static string Manifest(string model)
    {
        Cache.Ensure();
        return Cache.PathOf($"{model}-weights_manifest.json");
    }

    /// <inheritdoc cref="NpmPackageCache.EnsureAsync"/>
    public static Task EnsureAsync(bool withSamples = false, CancellationToken cancellationToken = default) => Cache.EnsureAsync(withSamples, cancellationToken: cancellationToken);
}
