using static TorchSharp.torch;

namespace HappySad.Training.Models;

/// <summary>Builds a network from the architecture name a model card records.</summary>
public static class ModelArchitectures
{
    /// <summary>
    /// Initialisation draws from libtorch's one process-wide generator: two models built at once
    /// on different threads would interleave their draws and neither would match its seed.
    /// </summary>
    static readonly Lock InitialisationLock = new();

    public static IReadOnlyList<string> Names { get; } = [SeedCnn.ArchitectureName];

    /// <summary>A freshly initialised network; <paramref name="seed"/> makes its initial weights reproducible.</summary>
    public static nn.Module<Tensor, Tensor> Create(string architecture, int? seed = null)
    {
        Native.TorchRuntime.EnsureInitialized();
        lock (InitialisationLock)
        {
            if (seed is { } value)
                manual_seed(value);
            return architecture switch
            {
                SeedCnn.ArchitectureName => new SeedCnn(),
                _ => throw new ArgumentException($"unknown model architecture '{architecture}' (known: {string.Join(", ", Names)})"),
            };
        }
    }
}
