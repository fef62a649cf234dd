using TorchSharp;
using static TorchSharp.torch;

namespace HappySad.Training.Training;

/// <summary>
/// Keras's <c>EarlyStopping(monitor="val_loss", patience, restore_best_weights=True)</c>: stops the
/// fit once validation loss has not improved for <paramref name="patience"/> epochs and puts back the
/// weights of the best epoch. State resets at the start of each fit. Epochs without a validation
/// loss are ignored.
/// </summary>
public sealed class EarlyStopping(int patience, double minDelta = 1e-4) : ITrainingCallback, IDisposable
{
    readonly Dictionary<string, Tensor> _best = new(StringComparer.Ordinal);
    double _bestLoss;
    int _bestEpoch;
    int _wait;

    public int? BestEpoch => _bestEpoch == 0 ? null : _bestEpoch;

    public void OnTrainBegin(TrainingContext context)
    {
        Release();
        (_bestLoss, _bestEpoch, _wait) = (double.PositiveInfinity, 0, 0);
    }

    public void OnEpochEnd(EpochMetrics metrics, TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(context);
        if (metrics.ValLoss is not { } loss)
            return;
        if (loss < _bestLoss - minDelta)
        {
            (_bestLoss, _bestEpoch, _wait) = (loss, metrics.Epoch, 0);
            Keep(context.Model);
        }
        else if (++_wait >= patience)
        {
            context.StopTraining = true;
        }
    }

    public void OnTrainEnd(TrainingHistory history, TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(context);
        if (_bestEpoch == 0 || _bestEpoch == history.Last?.Epoch)
            return;
        using (no_grad())
        {
            foreach (var (name, tensor) in context.Model.state_dict())
                tensor.copy_(_best[name]);
        }
        context.RestoredEpoch = _bestEpoch;
    }

    /// <summary>Writes the state a resumed fit needs to decide as this one would have: best loss and epoch, the wait, the best weights.</summary>
    internal void Save(BinaryWriter writer)
    {
        writer.Write(_bestLoss);
        writer.Write(_bestEpoch);
        writer.Write(_wait);
        writer.Write(_best.Count);
        foreach (var (name, tensor) in _best)
        {
            writer.Write(name);
            tensor.Save(writer);
        }
    }

    /// <summary>Puts back what <see cref="Save"/> wrote; called after <see cref="OnTrainBegin"/>, which resets.</summary>
    internal void Restore(BinaryReader reader, nn.Module<Tensor, Tensor> model)
    {
        Release();
        (_bestLoss, _bestEpoch, _wait) = (reader.ReadDouble(), reader.ReadInt32(), reader.ReadInt32());
        var shapes = model.state_dict();
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var name = reader.ReadString();
            using (no_grad())
                _best[name] = shapes[name].detach().clone();
            _best[name].Load(reader);
        }
    }

    void Keep(nn.Module<Tensor, Tensor> model)
    {
        Release();
        using var noGrad = no_grad();
        foreach (var (name, tensor) in model.state_dict())
            _best[name] = tensor.detach().clone();
    }

    void Release()
    {
        foreach (var tensor in _best.Values)
            tensor.Dispose();
        _best.Clear();
    }

    public void Dispose() => Release();
}
