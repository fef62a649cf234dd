using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace HappySad.Training.Models;

/// <param name="OutputShape">Without the batch dimension; null where the network is not a plain stack of layers (the layer may run on several inputs).</param>
/// <param name="TrainableParameters">The parameters a fit updates; the rest are frozen (pretrained parts).</param>
public sealed record LayerSummary(string Name, string Type, IReadOnlyList<long>? OutputShape, long Parameters, long TrainableParameters);

/// <summary>
/// A Keras-style <c>model.summary()</c>: each layer's output shape and parameter count, then the
/// total, trainable and non-trainable parameters. For the notebook's network, 3,696,625 in all.
/// </summary>
public sealed record ModelSummary(IReadOnlyList<LayerSummary> Layers)
{
    public long TotalParameters => Layers.Sum(l => l.Parameters);
    public long TrainableParameters => Layers.Sum(l => l.TrainableParameters);
    public long NonTrainableParameters => TotalParameters - TrainableParameters;

    /// <summary>
    /// The summary of a network as <paramref name="architecture"/> and <paramref name="options"/>
    /// build it. Pretrained parts are not fetched: their shapes and counts do not depend on their weights.
    /// </summary>
    public static ModelSummary For(string architecture, ModelOptions? options = null)
    {
        using var model = ModelArchitectures.Create(architecture, options: options, pretrained: false);
        return Of(model);
    }

    /// <summary>Layer by layer with output shapes for a plain stack (the notebook's network); else by part, without shapes.</summary>
    public static ModelSummary Of(nn.Module<Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is SeedCnn seed)
            return Of(seed);
        var rows = model.named_children()
            .Select(c => new LayerSummary(c.name, c.module.GetType().Name, null, Count(c.module.parameters()), Count(c.module.parameters(), trainableOnly: true)))
            .ToList();
        // Parameters held by the network itself rather than by one of its parts (a learnt scale, a bias).
        var own = model.named_parameters(recurse: false).Select(p => p.parameter).ToList();
        if (own.Count > 0)
            rows.Add(new LayerSummary("(own)", "Parameter", null, Count(own), Count(own, trainableOnly: true)));
        return new ModelSummary(rows);
    }

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
            rows.Add(new LayerSummary(name, layer.GetType().Name, shape, Count(layer.parameters()), Count(layer.parameters(), trainableOnly: true)));
        }
        return new ModelSummary(rows);
    }

    static long Count(IEnumerable<TorchSharp.Modules.Parameter> parameters, bool trainableOnly = false) =>
        parameters.Where(p => !trainableOnly || p.requires_grad).Sum(p => p.numel());

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"Layer (type)",-36}{"Output Shape",-22}{"Param #",12}");
        text.AppendLine(new string('=', 70));
        foreach (var layer in Layers)
        {
            var shape = layer.OutputShape is { } dimensions ? "(None, " + string.Join(", ", dimensions) + ")" : "?";
            text.AppendLine(CultureInfo.InvariantCulture, $"{$"{layer.Name} ({layer.Type})",-36}{shape,-22}{layer.Parameters,12:N0}");
        }
        text.AppendLine(new string('=', 70));
        text.AppendLine(CultureInfo.InvariantCulture, $"Total params: {TotalParameters:N0}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Trainable params: {TrainableParameters:N0}");
        text.Append(CultureInfo.InvariantCulture, $"Non-trainable params: {NonTrainableParameters:N0}");
        return text.ToString();
    }
}
