using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HappySad.Training.Data;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappySad.Training.Training;

/// <summary>
/// Where a fit keeps its state after each finished epoch, so that a fit cut off by a crash, a stop or
/// a move to another process goes on from the epoch after it and ends with the very same model.
/// <see cref="Identity"/> is what the caller knows defines the run beyond the fit options and the
/// data (the pipeline passes the recipe): a checkpoint written for anything else is ignored.
/// </summary>
public sealed class TrainingCheckpoint(string path, string identity = "")
{
    /// <summary>Bumped whenever the layout below changes: an older file is then ignored, never misread.</summary>
    const int FormatVersion = 1;
    const string Magic = "HappySad training checkpoint";

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public string Identity { get; } = identity;

    /// <summary>
    /// The fingerprint a checkpoint must carry to be resumed: the fit options, the caller's identity,
    /// the model's parameter names and shapes, and every pixel (or the pixel cache's key) and label of the training and validation images.
    /// </summary>
    internal string Fingerprint(FitOptions options, nn.Module<Tensor, Tensor> model, ImageSet train, ImageSet? validation)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
        Text(JsonSerializer.Serialize(options));
        Text(Identity);
        foreach (var (name, tensor) in model.state_dict())
            Text($"{name} {string.Join('x', tensor.shape)} {tensor.dtype}");
        ImageSet[] sets = validation is null ? [train] : [train, validation];
        foreach (var images in sets)
        {
            Text($"{images.Count} {images.Size} {images.Views}");
            // A cache file's key already names every photo's content and preparation: reading 10 GB of
            // pixels to say the same again would cost minutes on a large data set.
            var key = images.ContentKey;
            if (key is not null)
                Text(key);
            for (var i = 0; i < images.Count; i++)
            {
                if (key is null)
                    hash.AppendData(images.Pixels(i));
                hash.AppendData(BitConverter.GetBytes(images.Labels[i]));
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// Writes the state after <paramref name="state"/>'s last epoch atomically: the whole file goes
    /// to a temporary file beside it, is flushed to the disk, then renamed over the old one, so a
    /// crash at any moment leaves either the previous checkpoint or this one, whole.
    /// </summary>
    internal void Write(string fingerprint, CheckpointState state, Action<BinaryWriter> writeTensors)
    {
        using var body = new MemoryStream();
        using (var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            state.Write(writer);
            writeTensors(writer);
        }
        var bytes = body.GetBuffer().AsSpan(0, (int)body.Length);

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temporary = $"{Path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                using (var header = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
                {
                    header.Write(Magic);
                    header.Write(FormatVersion);
                    header.Write(fingerprint);
                    header.Write(state.Epoch);
                    header.Write(bytes.Length);
                    header.Write(SHA256.HashData(bytes));
                }
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, Path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// The checkpoint's state when the file is whole and was written for <paramref name="fingerprint"/>;
    /// otherwise null and the reason it is ignored. Nothing is applied to a model here: the caller
    /// reads the tensors from <see cref="CheckpointRead.Tensors"/> only once everything checked out.
    /// </summary>
    internal (CheckpointRead? Read, string? Ignored) TryRead(string fingerprint)
    {
        if (!File.Exists(Path))
            return (null, null);
        try
        {
            var bytes = File.ReadAllBytes(Path);
            // Over memory only, so nothing to dispose; the tensors are read from it after these checks.
            var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
            if (reader.ReadString() != Magic)
                return (null, "it is not a training checkpoint");
            if (reader.ReadInt32() is var version && version != FormatVersion)
                return (null, $"it has format {version}, this version reads {FormatVersion}");
            if (reader.ReadString() != fingerprint)
                return (null, "it was written for other training (a different recipe, seed or data)");
            var epoch = reader.ReadInt32();
            var length = reader.ReadInt32();
            var expected = reader.ReadBytes(SHA256.HashSizeInBytes);
            var start = (int)reader.BaseStream.Position;
            if (expected.Length != SHA256.HashSizeInBytes || bytes.Length - start != length)
                return (null, $"it is truncated or padded ({bytes.Length - start} of {length} bytes after its header)");
            if (!SHA256.HashData(bytes.AsSpan(start)).AsSpan().SequenceEqual(expected))
                return (null, "its contents do not match their checksum");
            var state = CheckpointState.Read(reader);
            return state.Epoch == epoch ? (new CheckpointRead(state, reader), null) : (null, "its header and contents disagree");
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException or UnauthorizedAccessException)
        {
            return (null, $"it cannot be read ({e.Message})");
        }
    }

    /// <summary>Removes the checkpoint (once its run has ended); missing is fine.</summary>
    public void Delete() => File.Delete(Path);
}

/// <summary>A checkpoint that checked out: its state, and a reader positioned at its tensors.</summary>
internal sealed record CheckpointRead(CheckpointState State, BinaryReader Tensors);

/// <summary>The plain values of a checkpoint: the epoch it was written after, the history so far, and what callbacks had decided.</summary>
internal sealed record CheckpointState(int Epoch, IReadOnlyList<EpochMetrics> History, bool StopTraining)
{
    public void Write(BinaryWriter writer)
    {
        writer.Write(Epoch);
        writer.Write(StopTraining);
        writer.Write(History.Count);
        foreach (var e in History)
        {
            writer.Write(e.Epoch);
            writer.Write(e.Loss);
            writer.Write(e.Accuracy);
            WriteOptional(writer, e.ValLoss);
            WriteOptional(writer, e.ValAccuracy);
            writer.Write(e.Seconds);
        }
    }

    public static CheckpointState Read(BinaryReader reader)
    {
        var epoch = reader.ReadInt32();
        var stop = reader.ReadBoolean();
        var history = new EpochMetrics[reader.ReadInt32()];
        for (var i = 0; i < history.Length; i++)
            history[i] = new EpochMetrics(reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), ReadOptional(reader), ReadOptional(reader), reader.ReadDouble());
        return new CheckpointState(epoch, history, stop);
    }

    static void WriteOptional(BinaryWriter writer, double? value)
    {
        writer.Write(value.HasValue);
        if (value is { } v)
            writer.Write(v);
    }

    static double? ReadOptional(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadDouble() : null;
}

/// <summary>The tensors of a checkpoint, in the order they are written: weights, optimizer moments and step, early stopping's state.</summary>
internal static class CheckpointTensors
{
    public static void Write(BinaryWriter writer, nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, EarlyStopping? earlyStopping)
    {
        model.save(writer);
        Helper(optimizer).save_state_dict(writer);
        writer.Write(earlyStopping is not null);
        earlyStopping?.Save(writer);
    }

    /// <summary>Weights and optimizer state, read before the callbacks begin.</summary>
    public static void ReadTraining(BinaryReader reader, nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer)
    {
        model.load(reader, strict: true);
        Helper(optimizer).load_state_dict(reader);
    }

    /// <summary>Early stopping's state, read after its <c>OnTrainBegin</c> (which resets it).</summary>
    public static void ReadEarlyStopping(BinaryReader reader, nn.Module<Tensor, Tensor> model, EarlyStopping? earlyStopping)
    {
        if (reader.ReadBoolean() != earlyStopping is not null)
            throw new InvalidDataException("the checkpoint's early-stopping state does not match the fit options");
        earlyStopping?.Restore(reader, model);
    }

    static OptimizerHelper Helper(optim.Optimizer optimizer) =>
        optimizer as OptimizerHelper ?? throw new NotSupportedException($"{optimizer.GetType().Name} cannot save its state");
}
