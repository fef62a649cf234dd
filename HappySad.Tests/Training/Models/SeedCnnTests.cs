using HappySad.Training.Data;
using HappySad.Training.Models;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Models;

public class SeedCnnTests
{
    [Fact]
    public void HasTheNotebooksParameterCountAndShapes()
    {
        // Through ModelArchitectures, which serialises use of the process-wide generator with seeded builds in other tests.
        using var model = (SeedCnn)ModelArchitectures.Create(SeedCnn.ArchitectureName);

        var summary = ModelSummary.Of(model);

        Assert.Equal(3_696_625, summary.TotalParameters);
        Assert.Equal([16L, 254, 254], summary.Layers.Single(l => l.Name == "conv1").OutputShape);
        Assert.Equal([16L, 30, 30], summary.Layers.Single(l => l.Name == "pool3").OutputShape);
        Assert.Equal([14400L], summary.Layers.Single(l => l.Name == "flatten").OutputShape);
        Assert.Equal(3_686_656, summary.Layers.Single(l => l.Name == "dense").Parameters);
        Assert.Contains("Total params: 3,696,625", summary.ToString(), StringComparison.Ordinal);
        Assert.Equal((3_696_625L, 0L), (summary.TrainableParameters, summary.NonTrainableParameters));
    }

    [Fact]
    public void ATransferModelsSummarySeparatesItsFrozenPartsFromWhatItLearns()
    {
        var summary = ModelSummary.For(FaceVerdictClassifier.ArchitectureName);

        // Its three learnt numbers: the face scale and shift, and the no-face lean (the colour head's bias).
        Assert.Equal(3, summary.TrainableParameters);
        Assert.True(summary.NonTrainableParameters > 100_000, summary.ToString());
        Assert.Contains("Non-trainable params:", summary.ToString(), StringComparison.Ordinal);

        // The pair adds the emotion network, frozen, and one learnt number: its scale.
        var pair = ModelSummary.For(FaceVerdictClassifier.PairArchitectureName);
        Assert.Equal(4, pair.TrainableParameters);
        // 205,127 weights: the 820,516 bytes of emotion.bin, float32, less its two int32 constants.
        Assert.Equal(summary.NonTrainableParameters + 205_127, pair.NonTrainableParameters);
    }

    [Fact]
    public void ReadsChannelsLastBatchesAsItReadsContiguousOnes()
    {
        // Batches keep the pixels' HWC memory order (ImageBatches.FromBytes): the speed of libtorch's
        // channels-last kernels, with the logits and gradients of an NCHW-contiguous copy.
        var pixels = new byte[4 * 256 * 256 * 3];
        new Random(5).NextBytes(pixels);
        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 3);
        using var batch = ImageBatches.FromBytes(pixels, 4, 256, CPU);
        using var contiguous = batch.contiguous();

        Assert.Equal([4L, 3, 256, 256], batch.shape);
        Assert.Equal(1, batch.stride(1));
        Assert.Equal(3 * 256, batch.stride(2));
        Assert.Equal(1, contiguous.stride(3));
        Assert.Equal(contiguous.data<float>().ToArray(), batch.contiguous().data<float>().ToArray());

        var (logits, gradient) = LogitsAndGradient(model, batch);
        var (expectedLogits, expectedGradient) = LogitsAndGradient(model, contiguous);

        Assert.True(logits.Zip(expectedLogits).All(p => Math.Abs(p.First - p.Second) < 1e-5), $"{string.Join(", ", logits)} against {string.Join(", ", expectedLogits)}");
        var scale = expectedGradient.Max(Math.Abs);
        Assert.True(scale > 0);
        Assert.True(gradient.Zip(expectedGradient).All(p => Math.Abs(p.First - p.Second) < 1e-4 * scale), "the first layer's gradients differ");
    }

    static (float[] Logits, float[] Conv1Gradient) LogitsAndGradient(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        model.train();
        model.zero_grad();
        using var logits = model.forward(input);
        using var loss = logits.sum();
        loss.backward();
        var conv1 = model.named_parameters().Single(p => p.name.EndsWith("conv1.weight", StringComparison.Ordinal)).parameter;
        return (logits.detach().data<float>().ToArray(), conv1.grad!.contiguous().data<float>().ToArray());
    }
}
