using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Models;
using static TorchSharp.torch;

namespace HappySad.Training.Training;

/// <summary>
/// A frozen front's readings of one image set (<see cref="IFrozenFront"/>), kept for the whole fit:
/// the first epoch stores each photo's reading as it reads it, and every epoch trains the head on the
/// stored rows, later ones without decoding or reading a photo again. For the transfer models that is nearly all
/// of an epoch's work: their fronts are whole pretrained networks, their heads a few numbers.
/// </summary>
internal sealed class FrontReadings : IDisposable
{
    readonly bool[] _read;
    int _readCount;
    Tensor? _rows;

    public FrontReadings(int count) => _read = new bool[count];

    /// <summary>Whether every photo has been read: the head can then train from <see cref="Rows"/> alone.</summary>
    public bool Complete => _readCount == _read.Length;

    /// <summary>Reads <paramref name="inputs"/> (the photos at <paramref name="indices"/>) through the front and keeps the readings.</summary>
    public void Read(IFrozenFront model, Tensor inputs, ReadOnlySpan<int> indices)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var front = model.Front(inputs);
        // Kept for the whole fit, whatever dispose scope the first batch was read in.
        _rows ??= zeros([_read.Length, front.shape[1]], front.dtype, front.device).DetachFromDisposeScope();
        _rows.index_copy_(0, tensor(indices.ToArray(), ScalarType.Int64, front.device), front);
        foreach (var index in indices)
        {
            if (!_read[index])
            {
                _read[index] = true;
                _readCount++;
            }
        }
    }

    /// <summary>The stored readings of the photos at <paramref name="indices"/>, in that order; each must have been read.</summary>
    public Tensor Rows(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (_rows is null || Array.Exists(indices, i => !_read[i]))
            throw new InvalidOperationException("a photo of the batch has not been read yet");
        using var at = tensor(indices, ScalarType.Int64, _rows.device);
        return _rows.index_select(0, at);
    }

    /// <summary>
    /// The model's logits over the whole set, as <see cref="Inference.Run"/> gives them: the photos are
    /// read through the front the first time, and only the head runs after that.
    /// </summary>
    public InferenceResult Infer(nn.Module<Tensor, Tensor> module, ImageSet images, Device device, int batchSize, CancellationToken cancellationToken)
    {
        var model = (IFrozenFront)module;
        module.eval();
        using var noGrad = no_grad();
        if (!Complete)
        {
            foreach (var indices in ImageBatches.Batches(images.Count, batchSize, shuffle: null))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var batch = NewDisposeScope();
                Read(model, ImageBatches.Inputs(images, indices, device), indices);
            }
        }
        using var scope = NewDisposeScope();
        var logits = model.Head(_rows!).flatten().cpu().data<float>().ToArray();
        return new InferenceResult(logits, images.Labels);
    }

    public void Dispose() => _rows?.Dispose();
}
