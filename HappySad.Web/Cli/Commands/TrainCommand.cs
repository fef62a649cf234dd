using System.Globalization;
using HappySad.Training.Data;
using HappySad.Training.Native;
using HappySad.Training.Persistence;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.Services;

namespace HappySad.Web.Cli.Commands;

internal static class TrainCommand
{
    /// <summary>The options that describe a run, shared by <c>train</c> and <c>crossval</c>.</summary>
    internal static readonly string[] SettingOptions =
        ["epochs", "batch-size", "lr", "seed", "validation", "test", "device", "preset", "model", "crop", "weight-decay", "dropout", "patience", "schedule"];

    internal static readonly string[] SettingFlags = ["augment", "fine-tune"];

    /// <summary>A preset first (the notebook's unless <c>--preset</c> says otherwise), then each explicit option over it.</summary>
    internal static RunSettings ReadSettings(CliArguments args)
    {
        var presetName = args.Optional("preset") ?? RunSettings.NotebookPreset;
        if (!RunSettings.Presets.Contains(presetName))
            throw new UsageException($"--preset must be one of {string.Join(", ", RunSettings.Presets)} (got '{presetName}')");
        var preset = new RunSettings().WithPreset(presetName);
        var settings = new RunSettings
        {
            Epochs = args.Int("epochs", preset.Epochs, min: 1),
            BatchSize = args.Int("batch-size", preset.BatchSize, min: 1),
            LearningRate = args.Double("lr", preset.LearningRate, min: 1e-9, max: 10),
            Seed = args.Int("seed", 42),
            ValidationFraction = args.Double("validation", 0.2, 0, 0.9),
            TestFraction = args.Double("test", 0.1, 0, 0.9),
            Device = TorchDevices.Parse(args.Optional("device") ?? "auto"),
            Preset = preset.Preset,
            Architecture = args.Optional("model") ?? preset.Architecture,
            Crop = args.Optional("crop") is { } crop
                ? CropNames.Parse(crop) ?? throw new UsageException($"--crop must be one of {string.Join(", ", CropNames.All)} (got '{crop}')")
                : preset.Crop,
            Augment = args.Flag("augment") || preset.Augment,
            WeightDecay = args.Double("weight-decay", preset.WeightDecay, 0, 1),
            Dropout = args.Double("dropout", preset.Dropout, 0, 0.9),
            Patience = args.Int("patience", preset.Patience, min: 0),
            Schedule = args.Optional("schedule") is { } schedule ? ParseEnum<LearningRateSchedule>("schedule", schedule) : preset.Schedule,
            FineTune = args.Flag("fine-tune") || preset.FineTune,
        };
        var problems = settings.Problems(TorchDevices.CudaAvailable);
        if (problems.Count > 0)
            throw new UsageException(string.Join(" ", problems));
        return settings;
    }

    static T ParseEnum<T>(string option, string value) where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new UsageException($"--{option} must be one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))} (got '{value}')");

    public static async Task<int> RunAsync(CliContext cli, CliArguments args)
    {
        var json = args.Flag("json");
        var data = args.Required("data");
        var settings = ReadSettings(args);
        var request = settings.ToRequest();
        var output = args.Optional("out");

        var epochs = request.Fit.Epochs;
        var progress = new LambdaCallback(
            onEpochEnd: e =>
            {
                cli.Progress.Clear();
                if (!json)
                    cli.Output.WriteLine(FormatEpoch(e, epochs));
            },
            onBatchEnd: b => cli.Progress.Report($"Epoch {b.Epoch}/{epochs}", b.Batch, b.BatchesPerEpoch, $"loss {b.Loss:0.0000}"));

        if (args.Flag("record"))
            return await RecordedAsync(cli, args, settings, data, output, progress);
        if (args.Optional("data-dir") is not null)
            throw new UsageException("--data-dir only applies with --record (the database to record the run in)");

        output ??= Path.Combine("models", $"happysad-{DateTime.Now:yyyyMMdd-HHmmss}{ModelStore.Extension}");
        var load = cli.LoadFolder(data, quiet: json, request.Preparation);
        using var outcome = new DisposableOutcome(await TrainingPipeline.RunAsync(load.Images, request, [progress], Path.GetFullPath(data), cli.CancellationToken));
        var (classifier, history, test, split) = outcome.Value;
        ModelStore.Save(output, classifier.Module, classifier.Card);

        var m = test.Metrics;
        if (json)
        {
            await cli.WriteJsonAsync(new
            {
                model = Path.GetFullPath(output),
                classes = classifier.Card.ClassNames,
                device = classifier.Card.Training!.Device,
                images = new { train = split.Train.Count, validation = split.Validation.Count, test = split.Test.Count, rejected = load.Rejected.Count },
                epochs = history.Epochs,
                test = EvaluateCommand.MetricsDocument(m),
                seconds = classifier.Card.Training.Seconds,
            });
        }
        else
        {
            cli.Output.WriteLine($"Split: train {split.Train.Count}, validation {split.Validation.Count}, test {split.Test.Count} (seed {request.Fit.Seed}); device {classifier.Card.Training!.Device}");
            if (history.RestoredEpoch is { } restored)
                cli.Output.WriteLine($"Early stopping: stopped after epoch {history.Epochs.Count}, kept the weights of epoch {restored} (lowest validation loss)");
            cli.Output.WriteLine($"Test ({m.Count} images, positive class '{test.PositiveClass}'): accuracy {m.Accuracy:0.000}, precision {m.Precision:0.000}, recall {m.Recall:0.000}, F1 {m.F1:0.000}, balanced accuracy {m.BalancedAccuracy:0.000}");
            cli.Output.WriteLine($"Saved model to {output}");
        }
        return 0;
    }

    /// <summary>
    /// <c>train --record</c>: the run is a row in the app's database (the same <c>--data-dir</c> as the
    /// dashboard), executed by the dashboard's own executor, so it appears among the runs with its
    /// curves, snapshot and model. Ctrl+C records it as Cancelled.
    /// </summary>
    static async Task<int> RecordedAsync(CliContext cli, CliArguments args, RunSettings settings, string data, string? output, ITrainingCallback progress)
    {
        var json = args.Flag("json");
        // Checks the folder before a row is written for it.
        ImageFolder.Open(data);
        var storage = await AppStorage.OpenAsync(args.Optional("data-dir"), cli.CancellationToken);
        await using (storage.ConfigureAwait(false))
        {
            var runs = storage.Get<TrainingRunService>();
            var paths = storage.Get<StoragePaths>();
            var run = await runs.RecordFolderRunAsync(settings, data, cli.CancellationToken);
            if (!json)
                cli.Output.WriteLine($"Recording as run {run.Id} in {paths.Root}");
            cli.Progress.Report("Preparing photos", 0, 1, "");
            var status = await storage.Get<RunExecutor>().ExecuteAsync(run.Id, data, [progress], cli.CancellationToken, CancellationToken.None);
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
                await cli.WriteJsonAsync(new
                {
                    run_id = recorded.Id,
                    data_directory = paths.Root,
                    model,
                    copied_to = output is null ? null : Path.GetFullPath(output),
                    classes = recorded.ClassNames,
                    device = recorded.Device,
                    snapshot = recorded.SnapshotHash,
                    images = new { train = recorded.TrainImages, validation = recorded.ValidationImages, test = recorded.TestImages, skipped = recorded.SkippedImages },
                    epochs = recorded.History.Select(e => new EpochMetrics(e.Epoch, e.Loss, e.Accuracy, e.ValLoss, e.ValAccuracy, e.Seconds)),
                    test = new { accuracy = recorded.TestAccuracy, precision = recorded.TestPrecision, recall = recorded.TestRecall, f1 = recorded.TestF1, balanced_accuracy = recorded.TestBalancedAccuracy },
                });
            }
            else
            {
                cli.Output.WriteLine($"Split: train {recorded.TrainImages}, validation {recorded.ValidationImages}, test {recorded.TestImages} (seed {recorded.Seed}); device {recorded.Device}");
                if (recorded.TestAccuracy is { } accuracy)
                    cli.Output.WriteLine($"Test: accuracy {accuracy:0.000}, precision {recorded.TestPrecision:0.000}, recall {recorded.TestRecall:0.000}, F1 {recorded.TestF1:0.000}, balanced accuracy {recorded.TestBalancedAccuracy:0.000}");
                cli.Output.WriteLine($"Saved model to {model}{(output is null ? "" : $" and {output}")}; run {recorded.Id} is on the dashboard's Runs page");
            }
            return 0;
        }
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
