using static TorchSharp.torch;

namespace HappySad.Training.Models;

/// <summary>Builds a network from the architecture name a model card records.</summary>
public static class ModelArchitectures
{
    public static IReadOnlyList<string> Names { get; } = [SeedCnn.ArchitectureName];

    /// <summary>A freshly initialised network; <paramref name="seed"/> makes its initial weights reproducible.</summary>
    public static nn.Module<Tensor, Tensor> Create(string architecture, int? seed = null)
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
