using HappySad.Web.Data;
using HappySad.Web.Runs;

namespace HappySad.Tests.Web.Runs;

/// <summary>What a finished run's numbers say against trusting it.</summary>
public sealed class RunHealthTests
{
    static TrainingRun Run(int tp, int fp, int tn, int fn, double balanced, params (double Loss, double ValLoss)[] epochs) => new()
    {
        DataName = "seed",
        Status = RunStatus.Succeeded,
        ClassNames = ["happy", "sad"],
        TruePositives = tp,
        FalsePositives = fp,
        TrueNegatives = tn,
        FalseNegatives = fn,
        TestBalancedAccuracy = balanced,
        History = [.. epochs.Select((e, i) => new RunEpoch { Epoch = i + 1, Loss = e.Loss, ValLoss = e.ValLoss })],
    };

    [Fact]
    public void ARunThatLearnedSomethingIsHealthy()
    {
        var health = RunHealth.Of(Run(12, 2, 13, 3, 0.83, (0.7, 0.68), (0.6, 0.6), (0.5, 0.55), (0.45, 0.56)));

        Assert.True(health.IsHealthy);
        Assert.Null(health.Summary);
        Assert.Empty(health.Explanations);
    }

    [Fact]
    public void EveryTestPhotoPredictedHappyIsOneClassAndChance()
    {
        var health = RunHealth.Of(Run(tp: 0, fp: 0, tn: 15, fn: 15, balanced: 0.5));

        Assert.Equal("happy", health.OnlyClass);
        Assert.Equal(0.5, health.ChanceLevel);
        Assert.Equal("all happy", health.Summary);
        Assert.Contains(health.Explanations, e => e.StartsWith("Every test photo was predicted happy", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryTestPhotoPredictedSadNamesSad() =>
        Assert.Equal("sad", RunHealth.Of(Run(tp: 15, fp: 15, tn: 0, fn: 0, balanced: 0.5)).OnlyClass);

    [Theory]
    [InlineData(0.55, true)]
    [InlineData(0.551, false)]
    public void BalancedAccuracyAtOrUnderPointFiftyFiveIsChance(double balanced, bool chance)
    {
        var health = RunHealth.Of(Run(8, 7, 8, 7, balanced));

        Assert.Equal(chance, health.ChanceLevel is not null);
        Assert.Equal(chance ? "chance level" : null, health.Summary);
    }

    [Fact]
    public void ValidationLossRisingThreeEpochsWhileTrainingLossFallsOverfitsFromItsLowestEpoch()
    {
        var health = RunHealth.Of(Run(12, 2, 13, 3, 0.83, (0.7, 0.65), (0.5, 0.5), (0.4, 0.55), (0.3, 0.6), (0.2, 0.7)));

        Assert.Equal(2, health.OverfittedFrom);
        Assert.Equal("overfitted", health.Summary);
        Assert.Contains(health.Explanations, e => e.StartsWith("Overfitted from epoch 2", StringComparison.Ordinal));
    }

    [Fact]
    public void TwoRisingEpochsAreNotOverfitting() =>
        Assert.Null(RunHealth.OverfitFrom(Run(0, 0, 0, 0, 1, (0.7, 0.65), (0.5, 0.5), (0.4, 0.55), (0.3, 0.6)).History));

    [Fact]
    public void RisingValidationLossWithRisingTrainingLossIsNotOverfitting() =>
        Assert.Null(RunHealth.OverfitFrom(Run(0, 0, 0, 0, 1, (0.7, 0.65), (0.5, 0.5), (0.6, 0.55), (0.7, 0.6), (0.8, 0.7)).History));

    [Fact]
    public void ARisingStreakBrokenByADipIsNotOverfitting() =>
        Assert.Null(RunHealth.OverfitFrom(Run(0, 0, 0, 0, 1, (0.7, 0.65), (0.5, 0.5), (0.4, 0.55), (0.3, 0.52), (0.2, 0.6), (0.1, 0.61)).History));

    [Fact]
    public void AFailedRunHasNothingToJudge()
    {
        var run = Run(0, 0, 15, 15, 0.5);
        run.Status = RunStatus.Failed;

        Assert.True(RunHealth.Of(run).IsHealthy);
    }
}
