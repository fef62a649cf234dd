using HappySad.Training.Models;

namespace HappySad.Tests.Models;

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
    }
}
