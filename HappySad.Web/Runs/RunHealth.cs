using HappySad.Web.Data;

namespace HappySad.Web.Runs;

/// <summary>
/// What a finished run's own numbers say against trusting it, so a "Succeeded" that learned nothing
/// does not read like one that did: a test set predicted as one class, a balanced accuracy no better
/// than a coin, or a validation loss that kept rising while the training loss fell.
/// </summary>
/// <param name="OnlyClass">The one class every test photo was predicted as; null when both were.</param>
/// <param name="ChanceLevel">The test balanced accuracy when it is at or under <see cref="ChanceBalancedAccuracy"/>.</param>
/// <param name="OverfittedFrom">The epoch of lowest validation loss, when the loss rose for <see cref="RisingEpochs"/> or more epochs after it while the training loss fell.</param>
public sealed record RunHealth(string? OnlyClass, double? ChanceLevel, int? OverfittedFrom)
{
    /// <summary>Two classes guessed at random score 0.5; a little above is still luck on a small test set.</summary>
    public const double ChanceBalancedAccuracy = 0.55;

    /// <summary>Fewer rising epochs in a row are the noise of one small validation set.</summary>
    public const int RisingEpochs = 3;

    public static RunHealth Healthy { get; } = new(null, null, null);

    public bool IsHealthy => this == Healthy;

    /// <summary>The run's health from its recorded epochs and test metrics; a run that did not succeed has none to judge.</summary>
    public static RunHealth Of(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Status != RunStatus.Succeeded)
            return Healthy;
        return new RunHealth(OnlyClassOf(run), run.TestBalancedAccuracy is { } b && b <= ChanceBalancedAccuracy ? b : null, OverfitFrom(run.History));
    }

    /// <summary>The class named by every test prediction, from the confusion counts (class 1 is the positive one).</summary>
    static string? OnlyClassOf(TrainingRun run)
    {
        if (run is not { TruePositives: { } tp, FalsePositives: { } fp, TrueNegatives: { } tn, FalseNegatives: { } fn } || run.ClassNames.Count < 2 || tp + fp + tn + fn == 0)
            return null;
        if (tp + fp == 0)
            return run.ClassNames[0];
        return tn + fn == 0 ? run.ClassNames[1] : null;
    }

    /// <summary>
    /// The epoch of lowest validation loss, when after it the validation loss rose epoch on epoch for
    /// <see cref="RisingEpochs"/> or more epochs while the training loss ended lower than it was there.
    /// </summary>
    public static int? OverfitFrom(IReadOnlyList<RunEpoch> epochs)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        var withValidation = epochs.Where(e => e.ValLoss is not null).OrderBy(e => e.Epoch).ToList();
        if (withValidation.Count == 0)
            return null;
        var best = withValidation.MinBy(e => e.ValLoss!.Value)!;
        var after = withValidation.SkipWhile(e => e != best).ToList();
        var rising = 0;
        for (var i = 1; i < after.Count && after[i].ValLoss > after[i - 1].ValLoss; i++)
            rising++;
        return rising >= RisingEpochs && after[rising].Loss < best.Loss ? best.Epoch : null;
    }

    /// <summary>A few words for a chip in the runs grid; null when healthy.</summary>
    public string? Summary => OnlyClass is not null ? $"all {OnlyClass}"
        : ChanceLevel is not null ? "chance level"
        : OverfittedFrom is not null ? "overfitted"
        : null;

    /// <summary>Each problem as a sentence that says what it means for the model.</summary>
    public IEnumerable<string> Explanations
    {
        get
        {
            if (OnlyClass is not null)
                yield return $"Every test photo was predicted {OnlyClass}: the model learned to answer one class, not to tell them apart.";
            if (ChanceLevel is { } b)
                yield return $"Test balanced accuracy is {b:0.000}, no better than chance ({ChanceBalancedAccuracy:0.00} or under): the model is no better than a coin flip at telling the classes apart.";
            if (OverfittedFrom is { } k)
                yield return $"Overfitted from epoch {k}: after it the validation loss kept rising for {RisingEpochs} or more epochs while the training loss fell, so the model was memorising its training photos. Early stopping (patience) or more regularisation would stop there.";
        }
    }
}
