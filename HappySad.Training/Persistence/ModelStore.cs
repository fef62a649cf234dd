using System.IO.Compression;
using System.Text.Json;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Prediction;
using TorchSharp;
using static TorchSharp.torch;

namespace HappySad.Training.Persistence;

/// <summary>A model file that cannot be read; the message is one line meant for people.</summary>
public sealed class ModelFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Saves and loads models as one file: a zip holding <c>model-card.json</c> and <c>weights.bin</c>
/// (TorchSharp's state-dict format). One file is easy to download, upload and keep with a run; a
/// zip can still be opened by hand to read the card.
/// </summary>
public static class ModelStore
{
    public const string Extension = ".hsmodel";
    const string CardEntry = "model-card.json";
    const string WeightsEntry = "weights.bin";

    /// <summary>A card is a few KB; anything far larger is not one, and is refused before it is parsed.</summary>
    public const int MaxCardBytes = 64 * 1024;

    /// <summary>What <c>weights.bin</c> may hold beyond its tensors' bytes: names, shapes and type codes.</summary>
    const long WeightsOverheadPerTensor = 1024;

    /// <summary>
    /// Writes to a sibling file first, forces it to the disk and renames it into place, so neither a
    /// crash nor a power cut leaves half a model where a run's success says a whole one is.
    /// </summary>
    public static void Save(string path, nn.Module<Tensor, Tensor> model, ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(card);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = File.Create(temporary))
            {
                using (var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true))
                {
                    using (var cardStream = zip.CreateEntry(CardEntry).Open())
                        JsonSerializer.Serialize(cardStream, card, ModelCard.JsonOptions);
                    using var weights = new BinaryWriter(zip.CreateEntry(WeightsEntry, CompressionLevel.Fastest).Open());
                    model.save(weights);
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Reads and checks the card; its messages never name the file, so they can go to any client.</summary>
    public static ModelCard ReadCard(string path)
    {
        using var zip = OpenArchive(path);
        return ReadCard(zip);
    }

    public static ImageClassifier Load(string path, Device? device = null)
    {
        TorchRuntime.EnsureInitialized();
        device ??= TorchDevices.Resolve(DevicePreference.Auto);
        using var zip = OpenArchive(path);
        var card = ReadCard(zip);
        var weights = zip.GetEntry(WeightsEntry) ?? throw new ModelFormatException($"no {WeightsEntry}: not a HappySad model file");
        var model = ModelArchitectures.Create(card.Architecture, pretrained: false);
        try
        {
            // The declared size is checked against what the network needs before a byte is read,
            // so a small file claiming gigabytes of weights costs nothing.
            var needed = model.state_dict().Values.Sum(t => t.numel() * t.ElementSize);
            var tensors = model.state_dict().Count;
            if (weights.Length < needed || weights.Length > needed + (tensors * WeightsOverheadPerTensor) + 4096)
                throw new ModelFormatException($"{WeightsEntry} holds {weights.Length:N0} bytes; a {card.Architecture} network's weights take {needed:N0} bytes");
            using var buffer = new MemoryStream((int)weights.Length);
            using (var entry = weights.Open())
                CopyAtMost(entry, buffer, weights.Length);
            buffer.Position = 0;
            using var reader = new BinaryReader(buffer);
            model.load(reader, strict: true);
            // Weights of the right size can still hold NaN (a diverged fit, a damaged file): every prediction would be NaN.
            if (FirstNonFinite(model) is { } broken)
                throw new ModelFormatException($"its weights are not all numbers: {broken} holds NaN or infinity");
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or EndOfStreamException or IOException or InvalidDataException or FormatException)
        {
            model.Dispose();
            throw new ModelFormatException($"its weights do not fit a {card.Architecture} network: {e.Message}", e);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.to(device);
        model.eval();
        return new ImageClassifier(model, card, device);
    }

    /// <summary>The name of the first tensor of <paramref name="model"/>'s state that holds NaN or infinity; null when all are numbers.</summary>
    public static string? FirstNonFinite(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in model.state_dict())
        {
            if (tensor.is_floating_point() && !isfinite(tensor).all().item<bool>())
                return name;
        }
        return null;
    }

    static void CopyAtMost(Stream source, Stream target, long limit)
    {
        var chunk = new byte[81920];
        long total = 0;
        int read;
        while ((read = source.Read(chunk)) > 0)
        {
            total += read;
            if (total > limit)
                throw new InvalidDataException("an entry holds more than its declared size");
            target.Write(chunk, 0, read);
        }
    }

    static ZipArchive OpenArchive(string path)
    {
        if (!File.Exists(path))
            throw new ModelFormatException($"model file '{Path.GetFileName(path)}' does not exist");
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFormatException("not a HappySad model file (not a zip archive)", e);
        }
    }

    static ModelCard ReadCard(ZipArchive zip)
    {
        var entry = zip.GetEntry(CardEntry) ?? throw new ModelFormatException($"no {CardEntry}: not a HappySad model file");
        if (entry.Length > MaxCardBytes)
            throw new ModelFormatException($"its model card is {entry.Length / 1024:N0} KB, over the {MaxCardBytes / 1024} KB limit");
        ModelCard? card;
        try
        {
            using var buffer = new MemoryStream();
            using (var stream = entry.Open())
                CopyAtMost(stream, buffer, MaxCardBytes);
            buffer.Position = 0;
            card = JsonSerializer.Deserialize<ModelCard>(buffer, ModelCard.JsonOptions);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
        {
            throw new ModelFormatException($"its model card is unreadable: {e.Message}", e);
        }
        if (card is null)
            throw new ModelFormatException("its model card is empty");
        if (card.FormatVersion > ModelCard.CurrentFormatVersion)
            throw new ModelFormatException($"it uses model format {card.FormatVersion}; this version of HappySad reads up to {ModelCard.CurrentFormatVersion}");
        if (Problem(card) is { } problem)
            throw new ModelFormatException($"its model card is invalid: {problem}");
        return card;
    }

    /// <summary>What makes a parsed card unusable, or null. JSON can set any property to null or any size, so nothing is assumed.</summary>
    static string? Problem(ModelCard card)
    {
        if (card.ClassNames is not { Count: 2 } names)
            return $"HappySad models have exactly two classes, the card lists {card.ClassNames?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}";
        if (names.Any(string.IsNullOrWhiteSpace))
            return "a class name is empty";
        if (string.Equals(names[0], names[1], StringComparison.Ordinal))
            return "the two class names are the same";
        if (names.Any(n => n.Length > 100))
            return "a class name is over 100 characters";
        if (card.Architecture is null || !ModelArchitectures.Names.Contains(card.Architecture))
            return $"unknown architecture (known: {string.Join(", ", ModelArchitectures.Names)})";
        if (card.Preprocessing is null)
            return "preprocessing is missing";
        var inputSize = ModelArchitectures.Describe(card.Architecture).InputSize;
        if (card.Preprocessing.InputSize != inputSize)
            return $"input size {card.Preprocessing.InputSize} does not fit {card.Architecture}, which takes {inputSize}";
        // The raised-hands mark is read by its own model type only: another would take the marked view for a face.
        var readsHands = ModelArchitectures.Describe(card.Architecture).ReadsRaisedHands;
        if (readsHands != (card.Preprocessing.FaceDetection?.RaisedHands is not null))
            return readsHands
                ? $"{card.Architecture} reads raised hands, but its face detection does not say how to find them (raised_hands)"
                : $"{card.Architecture} does not read raised hands, but its face detection looks for them (raised_hands)";
        if (card.Preprocessing.FaceDetection?.RaisedHands?.MaxFaceHeight is { } maxFaceHeight && !(maxFaceHeight > 0 && maxFaceHeight <= 1))
            return FormattableString.Invariant($"raised_hands.max_face_height {maxFaceHeight} is not a share of a photo's height (over 0, at most 1)");
        return null;
    }
}
