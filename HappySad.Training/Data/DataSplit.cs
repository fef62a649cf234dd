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
    /// Splits each class separately (stratified) after a seeded shuffle, so the same labels and seed
    /// always give the same split. Each held-out split gets at least one image of a class once that
    /// class has 10 images, and never takes the last training image.
    /// </summary>
    public static DataSplit Stratified(IReadOnlyList<int> labels, SplitFractions fractions, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(fractions);
        fractions.Validate();
        var random = new Random(seed);
        List<int> train = [], validation = [], test = [];
        foreach (var label in labels.Distinct().Order())
        {
            var members = Enumerable.Range(0, labels.Count).Where(i => labels[i] == label).ToArray();
            random.Shuffle(members);
            var n = members.Length;
            var nValidation = HeldOut(n, fractions.Validation);
            var nTest = HeldOut(n, fractions.Test);
            while (nValidation + nTest >= n && n > 0)
            {
                if (nValidation >= nTest && nValidation > 0) nValidation--;
                else nTest--;
            }
            validation.AddRange(members[..nValidation]);
            test.AddRange(members[nValidation..(nValidation + nTest)]);
            train.AddRange(members[(nValidation + nTest)..]);
        }
        return new DataSplit(Sorted(train), Sorted(validation), Sorted(test));
    }

    /// <summary>
    /// Stratified k-fold: each class is shuffled (seeded) and dealt round-robin into <paramref name="folds"/>
    /// folds, so every fold has the class balance of the whole and every image is in exactly one fold.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<int>> StratifiedFolds(IReadOnlyList<int> labels, int folds, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (folds < 2)
            throw new ArgumentException($"cross-validation needs at least 2 folds (got {folds})");
        foreach (var label in labels.Distinct())
        {
            if (labels.Count(l => l == label) < folds)
                throw new DataSetException($"class {label} has {labels.Count(l => l == label)} images, fewer than the {folds} folds");
        }
        var random = new Random(seed);
        var result = Enumerable.Range(0, folds).Select(_ => new List<int>()).ToArray();
        var dealt = 0;
        foreach (var label in labels.Distinct().Order())
        {
            var members = Enumerable.Range(0, labels.Count).Where(i => labels[i] == label).ToArray();
            random.Shuffle(members);
            // Continue dealing where the last class stopped, so fold sizes differ by at most one overall.
            foreach (var member in members)
                result[dealt++ % folds].Add(member);
        }
        return [.. result.Select(Sorted)];
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
