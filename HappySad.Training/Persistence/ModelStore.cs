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

    /// <summary>Writes to a sibling file first and renames it into place, so a crash never leaves half a model.</summary>
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
            using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
            {
                using (var cardStream = zip.CreateEntry(CardEntry).Open())
                    JsonSerializer.Serialize(cardStream, card, ModelCard.JsonOptions);
                using var weights = new BinaryWriter(zip.CreateEntry(WeightsEntry, CompressionLevel.Fastest).Open());
                model.save(weights);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public static ModelCard ReadCard(string path)
    {
        using var zip = OpenArchive(path);
        return ReadCard(zip, path);
    }

    public static ImageClassifier Load(string path, Device? device = null)
    {
        TorchRuntime.EnsureInitialized();
        device ??= TorchDevices.Resolve(DevicePreference.Auto);
        using var zip = OpenArchive(path);
        var card = ReadCard(zip, path);
        var weights = zip.GetEntry(WeightsEntry) ?? throw new ModelFormatException($"'{path}' has no {WeightsEntry}: not a HappySad model file");
        var model = ModelArchitectures.Create(card.Architecture, pretrained: false);
        try
        {
            // The zip stream cannot seek; TorchSharp reads sequentially, but buffer to be safe and fast.
            using var buffer = new MemoryStream();
            using (var entry = weights.Open())
                entry.CopyTo(buffer);
            buffer.Position = 0;
            using var reader = new BinaryReader(buffer);
            model.load(reader, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or EndOfStreamException or IOException)
        {
            model.Dispose();
            throw new ModelFormatException($"'{path}' has weights that do not fit a {card.Architecture} network: {e.Message}", e);
        }
        model.to(device);
        model.eval();
        return new ImageClassifier(model, card, device);
    }

    static ZipArchive OpenArchive(string path)
    {
        if (!File.Exists(path))
            throw new ModelFormatException($"model file '{path}' does not exist");
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFormatException($"'{path}' is not a HappySad model file (not a zip archive)", e);
        }
    }

    static ModelCard ReadCard(ZipArchive zip, string path)
    {
        var entry = zip.GetEntry(CardEntry) ?? throw new ModelFormatException($"'{path}' has no {CardEntry}: not a HappySad model file");
        ModelCard? card;
        try
        {
            using var stream = entry.Open();
            card = JsonSerializer.Deserialize<ModelCard>(stream, ModelCard.JsonOptions);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"'{path}' has an unreadable model card: {e.Message}", e);
        }
        if (card is null)
            throw new ModelFormatException($"'{path}' has an empty model card");
        if (card.FormatVersion > ModelCard.CurrentFormatVersion)
            throw new ModelFormatException($"'{path}' uses model format {card.FormatVersion}; this version of HappySad reads up to {ModelCard.CurrentFormatVersion}");
        if (card.ClassNames.Count != 2)
            throw new ModelFormatException($"'{path}' has {card.ClassNames.Count} classes; HappySad models have exactly two");
        return card;
    }
}
