using HappySad.Training.Data;
using static TorchSharp.torch;

namespace HappySad.Training.Evaluation;

/// <summary>Logits of a model over a whole image set, in eval mode and without gradients.</summary>
internal sealed record InferenceResult(float[] Logits, IReadOnlyList<int> Labels)
{
    public double Probability(int i) => Sigmoid(Logits[i]);

    /// <summary>Mean binary cross-entropy, computed from logits in the numerically stable form.</summary>
    public double Loss => Logits.Select((z, i) => Math.Max(z, 0) - (z * Labels[i]) + Math.Log(1 + Math.Exp(-Math.Abs(z)))).Average();

    public double Accuracy => (double)Logits.Where((z, i) => (z >= 0 ? 1 : 0) == Labels[i]).Count() / Logits.Length;

    public static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}

internal static class Inference
{
    public static InferenceResult Run(nn.Module<Tensor, Tensor> model, ImageSet images, Device device, int batchSize = Training.Trainer.MicroBatch, CancellationToken cancellationToken = default)
    {
        model.eval();
        using var noGrad = no_grad();
        var logits = new float[images.Count];
        var offset = 0;
        foreach (var indices in ImageBatches.Batches(images.Count, batchSize, shuffle: null))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var output = model.forward(ImageBatches.Inputs(images, indices, device)).flatten().cpu();
            output.data<float>().CopyTo(logits, offset);
            offset += indices.Length;
        }
        return new InferenceResult(logits, images.Labels);
    }
}
