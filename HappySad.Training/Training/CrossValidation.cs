using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Models;
using HappySad.Training.Native;

namespace HappySad.Training.Training;

/// <summary>
/// One fold: the model trained on the other folds, tested on this one. <see cref="Tested"/> are the
/// test photos' indices in the cross-validated set, in the order of <see cref="Predictions"/>.
/// </summary>
public sealed record FoldResult(int Fold, BinaryMetrics Metrics, int EpochsRun, int? RestoredEpoch, double SecondsPerEpoch)
{
    public IReadOnlyList<int> Tested { get; init; } = [];
    public IReadOnlyList<ImagePrediction> Predictions { get; init; } = [];
}

/// <summary>Every fold's result, and the mean and spread (sample standard deviation) of balanced accuracy.</summary>
public sealed record CrossValidationResult(IReadOnlyList<FoldResult> Folds)
{
    public double MeanBalancedAccuracy => Folds.Average(f => f.Metrics.BalancedAccuracy);

    public double StdBalancedAccuracy
    {
        get
        {
            if (Folds.Count < 2)
                return 0;
            var mean = MeanBalancedAccuracy;
            return Math.Sqrt(Folds.Sum(f => Math.Pow(f.Metrics.BalancedAccuracy - mean, 2)) / (Folds.Count - 1));
        }
    }

    public double MeanAccuracy => Folds.Average(f => f.Metrics.Accuracy);
    public double MeanSecondsPerEpoch => Folds.Average(f => f.SecondsPerEpoch);

    /// <summary>
    /// Metrics over every fold's test predictions pooled (each photo is tested exactly once), for the
    /// photos <paramref name="include"/> picks by index: "those with a face", say.
    /// </summary>
    public BinaryMetrics Pooled(Func<int, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        var picked = Folds.SelectMany(f => f.Tested.Zip(f.Predictions)).Where(p => include(p.First)).Select(p => p.Second).ToList();
        return BinaryMetrics.FromLabels([.. picked.Select(p => p.Actual)], [.. picked.Select(p => p.Predicted)]);
    }
}

/// <summary>
/// Stratified k-fold cross-validation of a recipe: how well it generalises to
/// photos it never trained on, with less luck in it than one 10% test split. Near-duplicate groups
/// (<see cref="ImageSet.Groups"/>) stay whole in one fold, so no fold is tested on its own training photos. Each fold trains a
/// fresh model on the other folds (less the recipe's validation fraction, which early stopping
/// watches) and is tested on its own photos.
/// </summary>
public static class CrossValidation
{
    public static async Task<CrossValidationResult> RunAsync(
        ImageSet images,
        RunRecipe recipe,
        int folds,
        Func<int, IEnumerable<ITrainingCallback>>? callbacks = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(recipe);
        recipe.EnsureValid(TorchDevices.CudaAvailable);
        TrainingPipeline.EnsureTrainable(images);
        var device = TorchDevices.Resolve(recipe.Device);
        var testFolds = DataSplit.StratifiedFolds(images.Labels, folds, recipe.Seed, images.Groups, images.ClassNames);
        var results = new List<FoldResult>();
        for (var fold = 0; fold < folds; fold++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var test = testFolds[fold];
            var rest = Enumerable.Range(0, images.Count).Except(test).ToArray();
            var restImages = images.Subset(rest);
            var inner = DataSplit.Stratified(restImages.Labels, new SplitFractions(recipe.ValidationFraction, 0), recipe.Seed + fold, restImages.Groups);
            using var model = ModelArchitectures.Create(recipe.Architecture, recipe.Seed + fold, recipe.ToModelOptions());
            var fit = recipe.ToFitOptions() with { Seed = recipe.Seed + fold };
            var history = await new Trainer(device).FitAsync(
                model,
                restImages.Subset(inner.Train),
                restImages.Subset(inner.Validation),
                fit,
                callbacks?.Invoke(fold + 1),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            var evaluation = Evaluator.Evaluate(model, images.Subset(test), device, cancellationToken: cancellationToken);
            results.Add(new FoldResult(fold + 1, evaluation.Metrics, history.Epochs.Count, history.RestoredEpoch, history.Epochs.Average(e => e.Seconds))
            {
                Tested = test,
                Predictions = evaluation.Predictions,
            });
        }
        return new CrossValidationResult(results);
    }
}
