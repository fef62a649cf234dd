using System.Text.Json;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace HappySad.Training.Pretrained;

/// <summary>
/// Reads TensorFlow.js weights into named float32 arrays in TensorFlow's layouts: a layers model's
/// weights manifest (<c>*-weights_manifest.json</c> plus its binary shards), or a graph model's JSON,
/// which carries its manifest inside (<c>weightsManifest</c>; its int32 constants, such as a mean's
/// axes, are graph plumbing and are skipped). Quantized weights are expanded the way tfjs's
/// <c>decodeWeights</c> does it, <c>q * scale + min</c> in double then stored as float32, and float16
/// ones widened to float32, so the values match the JavaScript original bit for bit.
/// </summary>
public sealed class TfjsWeights
{
    readonly Dictionary<string, (float[] Values, long[] Shape)> _weights;

    TfjsWeights(Dictionary<string, (float[] Values, long[] Shape)> weights) => _weights = weights;

    public IEnumerable<string> Names => _weights.Keys;

    public static TfjsWeights Load(string manifestPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        ManifestGroup[] groups;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(manifestPath));
            var manifest = json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("weightsManifest", out var embedded)
                ? embedded
                : json.RootElement;
            groups = manifest.Deserialize<ManifestGroup[]>() ?? throw new InvalidDataException("the manifest is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{manifestPath}' is not a TensorFlow.js weights manifest: {e.Message}", e);
        }

        var weights = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            // A group's shards are one buffer cut into files; the weights follow each other in it.
            var buffer = group.Paths.SelectMany(p => File.ReadAllBytes(Path.Combine(directory, p))).ToArray();
            var offset = 0;
            foreach (var entry in group.Weights)
            {
                var count = (int)entry.Shape.Aggregate(1L, (a, b) => a * b);
                var values = new float[count];
                switch (entry.Quantization?.Dtype)
                {
                    case null when entry.Dtype == "float32":
                        Buffer.BlockCopy(buffer, offset, values, 0, count * 4);
                        offset += count * 4;
                        break;
                    case null when entry.Dtype == "int32":
                        offset += count * 4;
                        continue;
                    case "uint8":
                        for (var i = 0; i < count; i++)
                            values[i] = (float)((buffer[offset + i] * entry.Quantization.Scale) + entry.Quantization.Min);
                        offset += count;
                        break;
                    case "uint16":
                        for (var i = 0; i < count; i++)
                            values[i] = (float)((BitConverter.ToUInt16(buffer, offset + (2 * i)) * entry.Quantization.Scale) + entry.Quantization.Min);
                        offset += count * 2;
                        break;
                    case "float16":
                        for (var i = 0; i < count; i++)
                            values[i] = (float)BitConverter.ToHalf(buffer, offset + (2 * i));
                        offset += count * 2;
                        break;
                    default:
                        throw new InvalidDataException($"weight '{entry.Name}' in '{manifestPath}' has unsupported type {entry.Dtype}/{entry.Quantization?.Dtype}");
                }
                weights[entry.Name] = (values, entry.Shape);
            }
            if (offset != buffer.Length)
                throw new InvalidDataException($"'{manifestPath}' describes {offset} bytes of weights but its shards hold {buffer.Length}");
        }
        return new TfjsWeights(weights);
    }

    /// <summary>One weight as a tensor in TensorFlow's layout (HWIO for convolutions, IO for dense layers).</summary>
    public Tensor Tensor(string name)
    {
        if (!_weights.TryGetValue(name, out var weight))
            throw new InvalidDataException($"pretrained weights have no '{name}'");
        return tensor(weight.Values, weight.Shape, ScalarType.Float32);
    }

    public long[] Shape(string name) => _weights.TryGetValue(name, out var weight)
        ? weight.Shape
        : throw new InvalidDataException($"pretrained weights have no '{name}'");

    sealed record ManifestGroup(
        [property: JsonPropertyName("paths")] string[] Paths,
        [property: JsonPropertyName("weights")] ManifestWeight[] Weights);

    sealed record ManifestWeight(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("shape")] long[] Shape,
        [property: JsonPropertyName("dtype")] string Dtype,
        [property: JsonPropertyName("quantization")] Quantization? Quantization);

    sealed record Quantization(
        [property: JsonPropertyName("dtype")] string Dtype,
        [property: JsonPropertyName("scale")] double Scale,
        [property: JsonPropertyName("min")] double Min);
}
