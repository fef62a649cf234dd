using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace HappySad.Training.Models;

public sealed record LayerSummary(string Name, string Type, IReadOnlyList<long> OutputShape, long Parameters);

/// <summary>A Keras-style summary: each layer's output shape and parameter count, with the total.</summary>
public sealed record ModelSummary(IReadOnlyList<LayerSummary> Layers)
{
    public long TotalParameters => Layers.Sum(l => l.Parameters);

    public static ModelSummary Of(SeedCnn model, int inputSize = SeedCnn.InputSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = zeros(1, 3, inputSize, inputSize);
        var rows = new List<LayerSummary>();
        foreach (var (name, layer) in model.Layers)
        {
            x = layer.forward(x);
            var shape = x.shape.Skip(1).ToArray();
            var parameters = layer.parameters().Sum(p => p.numel());
            rows.Add(new LayerSummary(name, layer.GetType().Name, shape, parameters));
        }
        return new ModelSummary(rows);
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"Layer (type)",-28}{"Output Shape",-22}{"Param #",12}");
        text.AppendLine(new string('=', 62));
        foreach (var layer in Layers)
        {
            var shape = "(None, " + string.Join(", ", layer.OutputShape) + ")";
            text.AppendLine(CultureInfo.InvariantCulture, $"{$"{layer.Name} ({layer.Type})",-28}{shape,-22}{layer.Parameters,12:N0}");
        }
        text.AppendLine(new string('=', 62));
        text.Append(CultureInfo.InvariantCulture, $"Total params: {TotalParameters:N0}");
        return text.ToString();
    }
}
