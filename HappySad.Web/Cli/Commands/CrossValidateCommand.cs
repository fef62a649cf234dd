using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;
using HappySad.Training.Training;
using TorchSharp;

namespace HappySad.Web.Cli.Commands;

/// <summary>
/// <c>crossval</c>: stratified k-fold cross-validation of one recipe (model type and options), the
/// honest way to compare recipes on a small data set. Also times one-photo prediction with the
/// recipe's preprocessing, so a report has accuracy, training cost and latency side by side.
/// With a face crop it also reports <see cref="PretrainedBaseline"/>: the pretrained expression
/// network's own verdict on the photos with a face, before any training, and the recipe's pooled
/// result on the photos with a face and on those without.
/// </summary>
internal static class CrossValidateCommand
{
    const int LatencySamples = 40;

    public static Command Create(CliContext cli)
    {
        var data = CliOptions.Data();
        var folds = CliOptions.Int("--folds", "Stratified folds; each photo is tested once.", 5, min: 2);
        var cache = CliOptions.Cache();
        var json = CliOptions.Json();
        var recipe = new RecipeOptions();
        var command = new Command("crossval",
            "Stratified k-fold cross-validation of a recipe: each fold, the mean and spread of balanced accuracy, seconds per epoch and one-photo prediction latency.")
            { data, folds, cache };
        recipe.AddTo(command);
        command.Options.Add(json);
        command.SetAction((parse, _) =>
        {
            return RunAsync(cli.ForJson(parse.GetValue(json)), recipe.Read(parse), parse.GetRequiredValue(data), parse.GetValue(folds), parse.GetValue(cache), parse.GetValue(json));
        });
        return command;
    }

    static async Task<int> RunAsync(CliContext cli, RunRecipe recipe, string data, int folds, string? cache, bool json)
    {
        var preparation = recipe.Preparation();
        cli.FetchPretrained(recipe);
        var load = cli.LoadFolder(data, quiet: json, preparation, cache);
        var epochs = recipe.Epochs;
        var fold = 0;
        var progress = new LambdaCallback(onBatchEnd: b => cli.Progress.Report($"Fold {fold}/{folds}, epoch {b.Epoch}/{epochs}", b.Batch, b.BatchesPerEpoch, $"loss {b.Loss:0.0000}"));

        var result = await CrossValidation.RunAsync(cli.GroupNearDuplicates(load, quiet: json), recipe, folds, f =>
        {
            fold = f;
            return [progress];
        }, cli.CancellationToken);
        cli.Progress.Clear();
        var latency = MeasureLatency(load, recipe, cli.CancellationToken);
        var baseline = PretrainedBaseline.Evaluate(load.Images, load.Found, cli.CancellationToken);
        // With face detection, how the recipe did on photos whose face it read and on the rest, pooled over folds.
        var byFace = load.Found.Count(f => f.FaceRead) is var read && read > 0 && read < load.Images.Count
            ? (With: result.Pooled(i => load.Found[i].FaceRead), Without: result.Pooled(i => !load.Found[i].FaceRead))
            : ((BinaryMetrics With, BinaryMetrics Without)?)null;

        if (json)
        {
            await cli.WriteJsonAsync(new CrossValidationReport(
                Model: recipe.Architecture,
                Crop: CropNames.Of(preparation.Crop),
                Settings: recipe.ToFitOptions(),
                Folds: [.. result.Folds.Select(f => new FoldReport(f.Fold, f.Metrics.BalancedAccuracy, f.Metrics.Accuracy, f.Metrics.Count, f.EpochsRun, f.RestoredEpoch, f.SecondsPerEpoch))],
                BalancedAccuracy: new MeanAndSd(result.MeanBalancedAccuracy, result.StdBalancedAccuracy),
                Accuracy: result.MeanAccuracy,
                SecondsPerEpoch: result.MeanSecondsPerEpoch,
                FacesFound: load.FacesFound,
                Images: load.Images.Count,
                LatencyMs: new LatencyReport(latency.P50, latency.P95, latency.Samples),
                PretrainedBaseline: baseline is null ? null : new PretrainedBaselineReport(baseline.Count, baseline.BalancedAccuracy, baseline.Accuracy),
                ByFace: byFace is { } split ? new ByFaceReport(SubsetReport.From(split.With), SubsetReport.From(split.Without)) : null));
            return 0;
        }

        cli.Output.WriteLine($"Model {recipe.Architecture}, crop {CropNames.Of(preparation.Crop)}, {folds} stratified folds (seed {recipe.Seed})");
        foreach (var f in result.Folds)
        {
            var kept = f.RestoredEpoch is { } restored ? $" (kept epoch {restored})" : "";
            cli.Output.WriteLine(Invariant($"  fold {f.Fold}: balanced accuracy {f.Metrics.BalancedAccuracy:0.000}, accuracy {f.Metrics.Accuracy:0.000} (n = {f.Metrics.Count}), {f.EpochsRun} epochs{kept}, {f.SecondsPerEpoch:0.00} s/epoch"));
        }
        cli.Output.WriteLine(Invariant($"Balanced accuracy {result.MeanBalancedAccuracy:0.000} ± {result.StdBalancedAccuracy:0.000} (mean ± sd over {folds} folds); accuracy {result.MeanAccuracy:0.000}; {result.MeanSecondsPerEpoch:0.00} s per epoch"));
        if (byFace is { } faces)
            cli.Output.WriteLine(Invariant($"Pooled over folds: photos whose face the model read (n = {faces.With.Count}) balanced accuracy {faces.With.BalancedAccuracy:0.000}; the others (n = {faces.Without.Count}) {faces.Without.BalancedAccuracy:0.000}"));
        if (baseline is not null)
            cli.Output.WriteLine(Invariant($"Untrained baseline: face-api's expression network alone (happy when its happy probability is over 0.5) on the {baseline.Count} photos whose face the model read: balanced accuracy {baseline.BalancedAccuracy:0.000}, accuracy {baseline.Accuracy:0.000}"));
        cli.Output.WriteLine(Invariant($"Prediction latency, one photo from its bytes (decode{(preparation.DetectsFaces ? " + face detection + crop" : "")} + network): p50 {latency.P50:0.0} ms, p95 {latency.P95:0.0} ms over {latency.Samples} photos"));
        return 0;
    }

    static (double P50, double P95, int Samples) MeasureLatency(ImageFolderLoad load, RunRecipe recipe, CancellationToken cancellationToken)
    {
        // Latency does not depend on the weights' values: an untrained network of the same type and
        // preprocessing does the same work as the trained ones.
        var device = TorchDevices.Resolve(recipe.Device);
        var model = ModelArchitectures.Create(recipe.Architecture, recipe.Seed, recipe.ToModelOptions());
        model.to(device);
        model.eval();
        var preparation = recipe.Preparation();
        var card = new ModelCard
        {
            Architecture = recipe.Architecture,
            ClassNames = load.Images.ClassNames,
            // The recipe's own face detection: a card without one would mean the tiny detector's single look.
            Preprocessing = new Preprocessing { InputSize = preparation.InputSize, Crop = preparation.Crop, FaceMargin = preparation.FaceMargin, FaceDetection = preparation.Detection },
        };
        using var classifier = new ImageClassifier(model, card, device);
        var photos = load.Images.Paths.Take(LatencySamples + 3).Select(File.ReadAllBytes).ToList();
        var times = new List<double>();
        for (var i = 0; i < photos.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            classifier.Predict(photos[i]);
            if (i >= 3)
                times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times.Count == 0 ? (0, 0, 0) : (times[times.Count / 2], times[Math.Min(times.Count - 1, (int)(times.Count * 0.95))], times.Count);
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
