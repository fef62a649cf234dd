using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Models;
using static TorchSharp.torch;

namespace HappySad.Training.Training;

/// <summary>
/// A frozen front's readings of one image set (<see cref="IFrozenFront"/>), kept for the whole fit:
/// the first epoch stores each photo's reading as it reads it, and later epochs train the head on the
/// stored rows without decoding or reading a photo again. For the transfer models that is nearly all
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

    /// <summary>Reads <paramref name="inputs"/> (the photos at <paramref name="indices"/>) through the front, keeps the readings, and returns them.</summary>
    public Tensor Read(IFrozenFront model, Tensor inputs, ReadOnlySpan<int> indices)
    {
        Tensor front;
        using (no_grad())
            front = model.Front(inputs);
        // Kept for the whole fit, whatever dispose scope the first batch was read in.
        _rows ??= zeros([_read.Length, front.shape[1]], front.dtype, front.device).DetachFromDisposeScope();
        using (no_grad())
        {
            using var at = tensor(indices.ToArray(), ScalarType.Int64, front.device);
            _rows.index_copy_(0, at, front);
        }
        foreach (var index in indices)
        {
            if (!_read[index])
            {
                _read[index] = true;
                _readCount++;
            }
        }
        return front;
    }

    /// <summary>The stored readings of the photos at <paramref name="indices"/>, in that order.</summary>
    public Tensor Rows(int[] indices)
    {
        if (!Complete)
            throw new InvalidOperationException("not every photo has been read yet");
        using var at = tensor(indices, ScalarType.Int64, _rows!.device);
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
                using var scope = NewDisposeScope();
                Read(model, ImageBatches.Inputs(images, indices, device), indices);
            }
        }
        using var logits = model.Head(_rows!).flatten().cpu();
        return new InferenceResult(logits.data<float>().ToArray(), images.Labels);
    }

    public void Dispose() => _rows?.Dispose();
}
