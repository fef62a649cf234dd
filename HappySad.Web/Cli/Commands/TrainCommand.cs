using System.CommandLine;
using System.Globalization;
using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.Runs;
using HappySad.Web.Storage;

namespace HappySad.Web.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create(CliContext cli)
    {
        var data = CliOptions.Data();
        var output = new Option<string?>("--out") { Description = "Where to save the model (default: models/happysad-{time}.hsmodel; with --record, a copy).", HelpName = "FILE" };
        var record = new Option<bool>("--record")
        {
            Description = "Record the run in the dashboard's database: it appears on the Runs page with its curves, snapshot and model.",
        };
        var dataDirectory = CliOptions.DataDirectory("With --record: the dashboard's data directory (default: the app's, ./data).");
        var name = new Option<string?>("--name") { Description = "With --record: a name for the run, shown beside its number on the dashboard.", HelpName = "NAME" };
        var cache = CliOptions.Cache();
        var json = CliOptions.Json();
        var recipe = new RecipeOptions();
        var command = new Command("train", "Train a model on a class-folder data set, with a line per epoch, and report its test metrics.") { data, output, record, dataDirectory, name, cache };
        recipe.AddTo(command);
        command.Options.Add(json);
        command.SetAction((parse, _) =>
        {
            var asked = recipe.Read(parse);
            var run = cli.ForJson(parse.GetValue(json));
            var (folder, copy) = (parse.GetRequiredValue(data), parse.GetValue(output));
            if (parse.GetValue(record) && parse.GetValue(cache) is not null)
                throw new UsageException("--cache does not apply with --record: a recorded run keeps its decoded photos in the data directory's cache (--data-dir)");
            if (parse.GetValue(record))
                return RecordedAsync(run, asked, folder, copy, parse.GetValue(dataDirectory), new RunDescription(parse.GetValue(name)), parse.GetValue(json));
            if (parse.GetValue(name) is not null)
                throw new UsageException("--name only applies with --record (a name for the recorded run)");
            return parse.GetValue(dataDirectory) is null
                ? RunAsync(run, asked, folder, copy, parse.GetValue(cache), parse.GetValue(json))
                : throw new UsageException("--data-dir only applies with --record (the database to record the run in)");
        });
        return command;
    }

    /// <summary>What a run whose split kept no test photo (<c>--test 0</c>) says instead of test metrics: there are none, not zeros.</summary>
    const string NoTestPhotos = "Test: no test photos, so no test metrics";

    static LambdaCallback Progress(CliContext cli, int epochs, bool json) => new(
        onEpochEnd: e =>
        {
            cli.Progress.Clear();
            if (!json)
                cli.Output.WriteLine(FormatEpoch(e, epochs));
        },
        onBatchEnd: b => cli.Progress.Report($"Epoch {b.Epoch}/{epochs}", b.Batch, b.BatchesPerEpoch, $"loss {b.Loss:0.0000}"));

    static async Task<int> RunAsync(CliContext cli, RunRecipe recipe, string data, string? output, string? cache, bool json)
    {
        output ??= Path.Combine("models", $"happysad-{DateTime.Now:yyyyMMdd-HHmmss}{ModelStore.Extension}");
        EnsureWritable(output, data);
        cli.FetchPretrained(recipe);
        var load = cli.LoadFolder(data, quiet: json, recipe.Preparation(), cache);
        if (!json)
            WriteSummary(cli, recipe.Architecture, recipe.ToModelOptions());
        using var outcome = new DisposableOutcome(await TrainingPipeline.RunAsync(cli.GroupNearDuplicates(load, quiet: json), recipe, [Progress(cli, recipe.Epochs, json)], Path.GetFullPath(data), cancellationToken: cli.CancellationToken));
        var (classifier, history, test, split) = outcome.Value;
        ModelStore.Save(output, classifier.Module, classifier.Card);

        var m = test.Metrics;
        if (json)
        {
            await cli.WriteJsonAsync(new TrainReport(
                Model: Path.GetFullPath(output),
                Classes: classifier.Card.ClassNames,
                Device: classifier.Card.Training!.Device,
                Images: new TrainImages(split.Train.Count, split.Validation.Count, split.Test.Count, load.Rejected.Count),
                Epochs: history.Epochs,
                Test: m.Count == 0 ? null : MetricsReport.From(m),
                Seconds: classifier.Card.Training.Seconds));
        }
        else
        {
            cli.Output.WriteLine($"Split: train {split.Train.Count}, validation {split.Validation.Count}, test {split.Test.Count} (seed {recipe.Seed}); device {classifier.Card.Training!.Device}");
            if (history.RestoredEpoch is { } restored)
                cli.Output.WriteLine($"Early stopping: stopped after epoch {history.Epochs.Count}, kept the weights of epoch {restored} (lowest validation loss)");
            cli.Output.WriteLine(m.Count == 0
                ? NoTestPhotos
                : $"Test ({m.Count} images, positive class '{test.PositiveClass}'): accuracy {m.Accuracy:0.000}, precision {m.Precision:0.000}, recall {m.Recall:0.000}, F1 {m.F1:0.000}, balanced accuracy {m.BalancedAccuracy:0.000}");
            cli.Output.WriteLine($"Saved model to {output}");
        }
        return 0;
    }

    /// <summary>
    /// <c>train --record</c>: the run is a row in the app's database (the same data directory as the
    /// dashboard), executed by the dashboard's own executor, so it appears among the runs with its
    /// curves, snapshot and model. Ctrl+C records it as Cancelled.
    /// </summary>
    /// <summary>
    /// Refuses, before anything is trained, an <c>--out</c> that could not take the model: a folder,
    /// a place inside the data folder (it would overwrite a photo, or be read as one next time), or
    /// somewhere this process cannot write.
    /// </summary>
    static void EnsureWritable(string output, string data)
    {
        var target = Path.GetFullPath(output);
        if (Directory.Exists(target))
            throw new UsageException($"--out '{output}' is a folder; name the model file to write (e.g. {Path.Combine(output, "model" + ModelStore.Extension)})");
        var folder = Path.GetFullPath(data).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (target.StartsWith(folder, StringComparison.Ordinal))
            throw new UsageException($"--out '{output}' is inside the data folder; write the model elsewhere");
        var probe = $"{target}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UsageException($"--out '{output}' cannot be written: {e.Message}");
        }
    }

    static async Task<int> RecordedAsync(CliContext cli, RunRecipe recipe, string data, string? output, string? dataDirectory, RunDescription description, bool json)
    {
        // Checks the folder, the name and where the model goes before a row is written for them.
        ImageFolder.Open(data);
        if (output is not null)
            EnsureWritable(output, data);
        if (description.Problems() is { Count: > 0 } problems)
            throw new UsageException(string.Join(" ", problems));
        var storage = await cli.OpenStorageAsync(dataDirectory);
        await using (storage)
        {
            var runs = storage.Get<RunService>();
            var paths = storage.Get<StoragePaths>();
            var run = await runs.RecordFolderRunAsync(recipe, data, cli.CancellationToken);
            if (description.Name is not null)
                run = await runs.DescribeAsync(run.Id, description, cli.CancellationToken);
            if (!json)
            {
                cli.Output.WriteLine($"Recording as run {run.Id} in {paths.Root}");
                WriteSummary(cli, recipe.Architecture, recipe.ToModelOptions());
            }
            cli.Progress.Report("Preparing photos", 0, 1, "");
            RunStatus status;
            using (storage.Get<RunEvents>().Subscribe(run.Id, new RunObserver(onPreparation: m =>
            {
                cli.Progress.Report("Preparing photos", m.Done, m.Total);
                return Task.CompletedTask;
            })))
                status = await storage.Get<RunExecutor>().ExecuteAsync(run.Id, data, [Progress(cli, recipe.Epochs, json)], cli.CancellationToken, CancellationToken.None);
            cli.Progress.Clear();
            var recorded = await runs.GetAsync(run.Id, CancellationToken.None) ?? throw new RunNotFoundException(run.Id);
            switch (status)
            {
                case RunStatus.Cancelled:
                    throw new OperationCanceledException(recorded.Message);
                case not RunStatus.Succeeded:
                    throw new RunFailedException(run.Id, status, recorded.Message);
            }

            var model = paths.Absolute(recorded.ModelPath!);
            if (output is not null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
                File.Copy(model, output, overwrite: true);
            }
            if (json)
            {
                // The recorder leaves a run's test metrics null when it had no test photo.
                var test = recorded.TestAccuracy is null ? null
                    : MetricsReport.From(new BinaryMetrics(recorded.TruePositives ?? 0, recorded.FalsePositives ?? 0, recorded.TrueNegatives ?? 0, recorded.FalseNegatives ?? 0));
                await cli.WriteJsonAsync(new TrainReport(
                    Model: model,
                    Classes: recorded.ClassNames,
                    Device: recorded.Device,
                    Images: new TrainImages(recorded.TrainImages, recorded.ValidationImages, recorded.TestImages, recorded.SkippedImages),
                    Epochs: [.. recorded.History.Select(e => new EpochMetrics(e.Epoch, e.Loss, e.Accuracy, e.ValLoss, e.ValAccuracy, e.Seconds))],
                    Test: test,
                    Seconds: ModelStore.ReadCard(model).Training?.Seconds,
                    RunId: recorded.Id,
                    DataDirectory: paths.Root,
                    CopiedTo: output is null ? null : Path.GetFullPath(output),
                    Snapshot: recorded.SnapshotHash));
            }
            else
            {
                cli.Output.WriteLine($"Split: train {recorded.TrainImages}, validation {recorded.ValidationImages}, test {recorded.TestImages} (seed {recorded.Recipe.Seed}); device {recorded.Device}");
                cli.Output.WriteLine(recorded.TestAccuracy is { } accuracy
                    ? $"Test: accuracy {accuracy:0.000}, precision {recorded.TestPrecision:0.000}, recall {recorded.TestRecall:0.000}, F1 {recorded.TestF1:0.000}, balanced accuracy {recorded.TestBalancedAccuracy:0.000}"
                    : NoTestPhotos);
                cli.Output.WriteLine($"Saved model to {model}{(output is null ? "" : $" and {output}")}; run {recorded.Id} is on the dashboard's Runs page");
            }
            return 0;
        }
    }

    /// <summary>The notebook's <c>model.summary()</c>, before the first epoch; <c>--json</c> leaves it out (its document has one shape).</summary>
    static void WriteSummary(CliContext cli, string architecture, ModelOptions options)
    {
        cli.Output.WriteLine($"Model: {architecture}");
        cli.Output.WriteLine(ModelSummary.For(architecture, options).ToString());
    }

    internal static string FormatEpoch(EpochMetrics e, int epochs)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"Epoch {e.Epoch}/{epochs} - {e.Seconds:0.0}s - loss {e.Loss:0.0000} - accuracy {e.Accuracy:0.0000}");
        return e.ValLoss is { } valLoss
            ? line + string.Create(CultureInfo.InvariantCulture, $" - val_loss {valLoss:0.0000} - val_accuracy {e.ValAccuracy:0.0000}")
            : line;
    }

    /// <summary>Frees the model's native memory when the command is done with it.</summary>
    sealed class DisposableOutcome(TrainingOutcome value) : IDisposable
    {
        public TrainingOutcome Value { get; } = value;
        public void Dispose() => Value.Classifier.Dispose();
    }
}
