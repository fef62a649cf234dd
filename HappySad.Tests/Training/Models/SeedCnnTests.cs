using HappySad.Training.Models;

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
    }
}
