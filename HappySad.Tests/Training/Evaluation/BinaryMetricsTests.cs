using HappySad.Training.Evaluation;

namespace HappySad.Tests.Training.Evaluation;

public class BinaryMetricsTests
{
    [Fact]
    public void ComputesMetricsFromHandCountedConfusion()
    {
        //            actual: 1  1  1  1  0  0  0  0  0  0
        //         predicted: 1  1  1  0  1  0  0  0  0  0   -> tp 3, fn 1, fp 1, tn 5
        var metrics = BinaryMetrics.FromLabels([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]);

        Assert.Equal(new BinaryMetrics(3, 1, 5, 1), metrics);
        Assert.Equal(0.8, metrics.Accuracy, 12);
        Assert.Equal(0.75, metrics.Precision, 12);
        Assert.Equal(0.75, metrics.Recall, 12);
        Assert.Equal(0.75, metrics.F1, 12);
        Assert.Equal((0.75 + (5.0 / 6)) / 2, metrics.BalancedAccuracy, 12);
    }

    [Fact]
    public void AlwaysAnsweringOneClassScoresHalfBalancedAccuracyWhateverTheBalance()
    {
        var metrics = BinaryMetrics.FromLabels([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

        Assert.Equal(0.9, metrics.Accuracy, 12);
        Assert.Equal(0.5, metrics.BalancedAccuracy, 12);
        Assert.Equal(0, metrics.Precision);
        Assert.Equal(0, metrics.F1);
    }
}
