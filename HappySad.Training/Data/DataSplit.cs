namespace HappySad.Training.Data;

/// <summary>Fractions of a data set held out for validation and test; the rest trains.</summary>
public sealed record SplitFractions(double Validation = 0.2, double Test = 0.1)
{
    public static readonly SplitFractions Notebook = new();

    public void Validate()
    {
        if (Validation is < 0 or >= 1 || Test is < 0 or >= 1 || Validation + Test >= 1)
            throw new DataSetException($"validation ({Validation}) and test ({Test}) fractions must each be in [0, 1) and leave room for training");
    }
}

/// <summary>Indices into an <see cref="ImageSet"/> for the three splits.</summary>
public sealed record DataSplit(IReadOnlyList<int> Train, IReadOnlyList<int> Validation, IReadOnlyList<int> Test)
{
    /// <summary>
    /// Splits each class separately (stratified) after a seeded shuffle, so the same labels, groups and
    /// seed always give the same split. Each held-out split gets at least one image of a class once that
    /// class has 10 images, and never takes the last training image.
    /// With <paramref name="groups"/> (a group id per image, <see cref="NearDuplicates"/>), every group
    /// lands whole in one split, so no picture is trained on and tested on: groups of several photos are
    /// placed first, each in a split it fits in (drawn in proportion to the room left), and single photos
    /// then fill each split to its share. A group counts for the class most of its photos carry.
    /// Without groups (or with no group of more than one), the split is the plain stratified one.
    /// </summary>
    public static DataSplit Stratified(IReadOnlyList<int> labels, SplitFractions fractions, int seed, IReadOnlyList<int>? groups = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(fractions);
        fractions.Validate();
        var random = new Random(seed);
        List<int> train = [], validation = [], test = [];
        foreach (var (label, members) in GroupsByClass(labels, groups))
        {
            random.Shuffle(members);
            var n = members.Sum(m => m.Length);
            var nValidation = HeldOut(n, fractions.Validation);
            var nTest = HeldOut(n, fractions.Test);
            while (nValidation + nTest >= n && n > 0)
            {
                if (nValidation >= nTest && nValidation > 0) nValidation--;
                else nTest--;
            }
            List<int>[] parts = [validation, test, train];
            int[] room = [nValidation, nTest, n - nValidation - nTest];
            // Larger groups first (a stable sort keeps the shuffle among equals), while every split still has room for them.
            foreach (var group in members.OrderByDescending(m => m.Length))
            {
                var part = group.Length > 1 ? Draw(room, group.Length, random) : Array.FindIndex(room, r => r > 0);
                part = part < 0 ? 2 : part;
                room[part] -= group.Length;
                parts[part].AddRange(group);
            }
        }
        return new DataSplit(Sorted(train), Sorted(validation), Sorted(test));
    }

    /// <summary>
    /// Stratified k-fold: each class is shuffled (seeded) and dealt into <paramref name="folds"/> folds,
    /// each next photo (or near-duplicate group, largest first) to the fold with the fewest of its class
    /// and then the fewest overall, so every fold has the class balance of the whole, every image is in
    /// exactly one fold, and a group is never split between folds.
    /// </summary>
    /// <param name="classNames">Names the classes in a refusal; their indices when null.</param>
    public static IReadOnlyList<IReadOnlyList<int>> StratifiedFolds(IReadOnlyList<int> labels, int folds, int seed, IReadOnlyList<int>? groups = null, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (folds < 2)
            throw new ArgumentException($"cross-validation needs at least 2 folds (got {folds})");
        foreach (var label in labels.Distinct())
        {
            if (labels.Count(l => l == label) < folds)
                throw new DataSetException($"class {(classNames is not null && label < classNames.Count ? $"'{classNames[label]}'" : label.ToString(System.Globalization.CultureInfo.InvariantCulture))} has {labels.Count(l => l == label)} images, fewer than the {folds} folds");
        }
        var random = new Random(seed);
        var result = Enumerable.Range(0, folds).Select(_ => new List<int>()).ToArray();
        var dealt = 0;
        foreach (var (_, members) in GroupsByClass(labels, groups))
        {
            random.Shuffle(members);
            var ofClass = new int[folds];
            foreach (var group in members.OrderByDescending(m => m.Length))
            {
                // Ties go round-robin from where the last photo went, so fold sizes differ by at most one overall.
                var fold = Enumerable.Range(dealt, folds).Select(f => f % folds)
                    .MinBy(f => (ofClass[f], result[f].Count));
                result[fold].AddRange(group);
                ofClass[fold] += group.Length;
                dealt = fold + 1;
            }
        }
        return [.. result.Select(Sorted)];
    }

    /// <summary>
    /// The images of each class (ascending) as groups of indices: each image alone without
    /// <paramref name="groups"/>, else each group whole under the label most of its images carry (the lower on a tie).
    /// </summary>
    static IEnumerable<(int Label, int[][] Members)> GroupsByClass(IReadOnlyList<int> labels, IReadOnlyList<int>? groups)
    {
        if (groups is not null && groups.Count != labels.Count)
            throw new ArgumentException($"{groups.Count} group ids for {labels.Count} images");
        var all = Enumerable.Range(0, labels.Count)
            .GroupBy(i => groups?[i] ?? -1 - i)
            .Select(g => g.ToArray())
            .ToList();
        var classOf = all.ToDictionary(g => g[0], g => g.GroupBy(i => labels[i]).OrderByDescending(l => l.Count()).ThenBy(l => l.Key).First().Key);
        foreach (var label in labels.Distinct().Order())
            yield return (label, [.. all.Where(g => classOf[g[0]] == label).OrderBy(g => g[0])]);
    }

    /// <summary>A split with room for a group of <paramref name="size"/>, drawn in proportion to its room; -1 when none has room.</summary>
    static int Draw(int[] room, int size, Random random)
    {
        var fits = Enumerable.Range(0, room.Length).Where(p => room[p] >= size).ToList();
        if (fits.Count == 0)
            return -1;
        var ticket = random.Next(fits.Sum(p => room[p]));
        foreach (var part in fits)
        {
            if ((ticket -= room[part]) < 0)
                return part;
        }
        return fits[^1];
    }

    static int HeldOut(int n, double fraction)
    {
        if (fraction <= 0)
            return 0;
        var count = (int)Math.Round(n * fraction, MidpointRounding.AwayFromZero);
        return n >= 10 ? Math.Max(1, count) : count;
    }

    static int[] Sorted(List<int> indices) => [.. indices.Order()];
}
