using HappySad.Tests.Support;
using HappySad.Training.Data;
using SkiaSharp;

namespace HappySad.Tests.Training.Data;

/// <summary>Near-duplicate groups land whole in one split or fold, so no picture is both trained on and tested on.</summary>
public class GroupedSplitTests
{
    static readonly int[] SeedLabels = [.. Enumerable.Repeat(0, 151), .. Enumerable.Repeat(1, 150)];

    [Fact]
    public void EveryPhotoAloneGivesThePlainStratifiedSplit()
    {
        int[] alone = [.. Enumerable.Range(0, SeedLabels.Length).Select(i => 1000 + i)];

        foreach (var seed in new[] { 1, 42, 7 })
            Assert.Equal(DataSplit.Stratified(SeedLabels, SplitFractions.Notebook, seed), DataSplit.Stratified(SeedLabels, SplitFractions.Notebook, seed, alone), SplitComparer.Instance);
    }

    [Fact]
    public void OverRandomGroupingsNoGroupCrossesSplitsAndEachClassStaysWithinOnePhotoOfItsShare()
    {
        for (var trial = 0; trial < 200; trial++)
        {
            var random = new Random(trial);
            var (labels, groups) = RandomGrouping(random);
            var seed = random.Next();

            var split = DataSplit.Stratified(labels, SplitFractions.Notebook, seed, groups);

            var partOf = PartOf(split, labels.Length);
            Assert.All(Enumerable.Range(0, labels.Length).GroupBy(i => groups[i]), g => Assert.Single(g.Select(i => partOf[i]).Distinct()));
            foreach (var label in new[] { 0, 1 })
            {
                var n = labels.Count(l => l == label);
                Assert.InRange(split.Validation.Count(i => labels[i] == label), Share(n, 0.2) - 1, Share(n, 0.2) + 1);
                Assert.InRange(split.Test.Count(i => labels[i] == label), Share(n, 0.1) - 1, Share(n, 0.1) + 1);
            }
            Assert.Equal(split, DataSplit.Stratified(labels, SplitFractions.Notebook, seed, groups), SplitComparer.Instance);
        }
    }

    [Fact]
    public void TheSeedStillDecidesWhereGroupsGo()
    {
        var (labels, groups) = RandomGrouping(new Random(5));

        var a = DataSplit.Stratified(labels, SplitFractions.Notebook, 1, groups);
        var b = DataSplit.Stratified(labels, SplitFractions.Notebook, 2, groups);

        Assert.NotEqual(a.Test, b.Test);
    }

    [Fact]
    public void ASplitThatIgnoredGroupsWouldHaveLeakedThem()
    {
        // The same grouping with and without the groups: the plain split separates some group, the grouped one none.
        var (labels, groups) = RandomGrouping(new Random(11));
        var plain = PartOf(DataSplit.Stratified(labels, SplitFractions.Notebook, 3), labels.Length);
        var grouped = PartOf(DataSplit.Stratified(labels, SplitFractions.Notebook, 3, groups), labels.Length);

        var spread = (int[] part) => Enumerable.Range(0, labels.Length).GroupBy(i => groups[i]).Count(g => g.Select(i => part[i]).Distinct().Count() > 1);
        Assert.True(spread(plain) > 0);
        Assert.Equal(0, spread(grouped));
    }

    [Fact]
    public void APictureInBothClassesStaysInOneSplit()
    {
        int[] labels = [.. Enumerable.Repeat(0, 30), .. Enumerable.Repeat(1, 30)];
        var groups = Enumerable.Range(0, 60).ToArray();
        // Photo 3 (happy) and photo 40 (sad) are the same picture: a label conflict.
        groups[40] = 3;

        for (var seed = 0; seed < 50; seed++)
        {
            var part = PartOf(DataSplit.Stratified(labels, SplitFractions.Notebook, seed, groups), 60);
            Assert.Equal(part[3], part[40]);
        }
    }

    [Fact]
    public void FoldsKeepGroupsWholeTestEachPhotoOnceAndStayBalanced()
    {
        for (var trial = 0; trial < 50; trial++)
        {
            var random = new Random(trial);
            var (labels, groups) = RandomGrouping(random);

            var folds = DataSplit.StratifiedFolds(labels, 5, random.Next(), groups);

            Assert.Equal(Enumerable.Range(0, labels.Length), folds.SelectMany(f => f).Order());
            var foldOf = new int[labels.Length];
            for (var f = 0; f < folds.Count; f++)
            {
                foreach (var i in folds[f])
                    foldOf[i] = f;
            }
            Assert.All(Enumerable.Range(0, labels.Length).GroupBy(i => groups[i]), g => Assert.Single(g.Select(i => foldOf[i]).Distinct()));
            // Groups are at most three photos, so a fold is never more than a group away from its share of a class.
            foreach (var label in new[] { 0, 1 })
            {
                var counts = folds.Select(f => f.Count(i => labels[i] == label)).ToList();
                Assert.InRange(counts.Max() - counts.Min(), 0, 3);
            }
        }
    }

    [Fact]
    public void GroupsJoinChainsOfNearTwinsAndLeaveUnhashedPhotosAlone()
    {
        // a~b and b~c (2 bits each) but a and c are 4 bits apart: one picture re-compressed twice, with a limit of 2.
        ulong?[] hashes = [0b0000, 0b0011, 0b1111, ulong.MaxValue, null, 0b0000];

        var groups = NearDuplicates.Groups(hashes, maxDistance: 2);

        Assert.Equal([0, 0, 0, 3, 4, 0], groups);
        Assert.Equal(new NearDuplicateSummary(1, 4, 1), NearDuplicateSummary.Of([0, 0, 0, 1, 1, 1], groups));
    }

    [Fact]
    public void FilesAreHashedAsTheScanHashesUploads()
    {
        using var folder = new TempDirectory();
        var original = TestImages.Blocks(1, 300, 300);
        using var bitmap = SKBitmap.Decode(original);
        using var small = bitmap.Resize(new SKImageInfo(120, 120), new SKSamplingOptions(SKFilterMode.Linear));
        string[] paths = [.. new[] { original, TestImages.Encode(small, SKEncodedImageFormat.Jpeg, 70), TestImages.Blocks(2, 300, 300), "not an image"u8.ToArray() }
            .Select((bytes, i) => { var path = Path.Combine(folder.Path, $"{i}.bin"); File.WriteAllBytes(path, bytes); return path; })];

        var hashes = NearDuplicates.HashFiles(paths);

        Assert.Equal(PerceptualHash.Compute(ImageDecoder.Decode(original, NearDuplicates.HashSize)), hashes[0]);
        Assert.Null(hashes[3]);
        Assert.Equal([0, 0, 2, 3], NearDuplicates.Groups(hashes));
    }

    /// <summary>Two classes of 40 to 200 photos, a third of them in class-pure groups of two or three.</summary>
    static (int[] Labels, int[] Groups) RandomGrouping(Random random)
    {
        var labels = new List<int>();
        var groups = new List<int>();
        foreach (var label in new[] { 0, 1 })
        {
            var n = random.Next(40, 201);
            var placed = 0;
            while (placed < n)
            {
                var size = random.NextDouble() < 0.33 ? Math.Min(random.Next(2, 4), n - placed) : 1;
                var id = random.Next();
                for (var k = 0; k < size; k++)
                {
                    labels.Add(label);
                    groups.Add(id);
                }
                placed += size;
            }
        }
        // Interleave the photos so a group's members are not neighbours.
        var order = Enumerable.Range(0, labels.Count).ToArray();
        random.Shuffle(order);
        return ([.. order.Select(i => labels[i])], [.. order.Select(i => groups[i])]);
    }

    static int Share(int n, double fraction) => (int)Math.Round(n * fraction, MidpointRounding.AwayFromZero);

    static int[] PartOf(DataSplit split, int count)
    {
        var part = new int[count];
        foreach (var i in split.Validation)
            part[i] = 1;
        foreach (var i in split.Test)
            part[i] = 2;
        return part;
    }

    sealed class SplitComparer : IEqualityComparer<DataSplit>
    {
        public static readonly SplitComparer Instance = new();

        public bool Equals(DataSplit? x, DataSplit? y) =>
            x is not null && y is not null && x.Train.SequenceEqual(y.Train) && x.Validation.SequenceEqual(y.Validation) && x.Test.SequenceEqual(y.Test);

        public int GetHashCode(DataSplit obj) => obj.Test.Count;
    }
}
