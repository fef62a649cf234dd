using HappySad.Training.Data;

namespace HappySad.Tests.Training.Data;

public class DataSplitTests
{
    static readonly int[] SeedLabels = [.. Enumerable.Repeat(0, 151), .. Enumerable.Repeat(1, 150)];

    [Fact]
    public void SplitsEachClassSeventyTwentyTen()
    {
        var split = DataSplit.Stratified(SeedLabels, SplitFractions.Notebook, seed: 42);

        Assert.Equal((106, 30, 15), Counts(split, label: 0));
        Assert.Equal((105, 30, 15), Counts(split, label: 1));
    }

    [Fact]
    public void SplitsAreDisjointAndCoverEveryImage()
    {
        var split = DataSplit.Stratified(SeedLabels, SplitFractions.Notebook, seed: 7);

        var all = split.Train.Concat(split.Validation).Concat(split.Test).ToList();
        Assert.Equal(SeedLabels.Length, all.Distinct().Count());
        Assert.Equal(SeedLabels.Length, all.Count);
    }

    [Fact]
    public void SameSeedSameSplitOtherSeedOtherSplit()
    {
        var a = DataSplit.Stratified(SeedLabels, SplitFractions.Notebook, seed: 1);
        var b = DataSplit.Stratified(SeedLabels, SplitFractions.Notebook, seed: 1);
        var c = DataSplit.Stratified(SeedLabels, SplitFractions.Notebook, seed: 2);

        Assert.Equal(a.Test, b.Test);
        Assert.Equal(a.Validation, b.Validation);
        Assert.NotEqual(a.Test, c.Test);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(14)]
    public void EverySplitHasEveryClassOnceAClassHasTenImages(int perClass)
    {
        int[] labels = [.. Enumerable.Repeat(0, perClass), .. Enumerable.Repeat(1, perClass)];

        var split = DataSplit.Stratified(labels, SplitFractions.Notebook, seed: 3);

        foreach (var part in new[] { split.Train, split.Validation, split.Test })
            Assert.Equal([0, 1], part.Select(i => labels[i]).Distinct().Order());
    }

    [Fact]
    public void RefusesFractionsThatLeaveNothingToTrainOn()
    {
        Assert.Throws<DataSetException>(() => DataSplit.Stratified(SeedLabels, new SplitFractions(0.6, 0.5), seed: 1));
    }

    static (int, int, int) Counts(DataSplit split, int label) =>
        (split.Train.Count(i => SeedLabels[i] == label), split.Validation.Count(i => SeedLabels[i] == label), split.Test.Count(i => SeedLabels[i] == label));
}
