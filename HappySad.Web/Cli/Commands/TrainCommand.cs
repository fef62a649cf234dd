using System.Globalization;
using HappySad.Training.Data;
using HappySad.Training.Native;
using HappySad.Training.Persistence;
using HappySad.Training.Training;

namespace HappySad.Web.Cli.Commands;

internal static class TrainCommand
{
    public static async Task<int> RunAsync(CliContext cli, CliArguments args)
    {
        var json = args.Flag("json");
        var data = args.Required("data");
        var request = new TrainingRequest
        {
            Fit = new FitOptions
            {
                Epochs = args.Int("epochs", 20, min: 1),
                BatchSize = args.Int("batch-size", 32, min: 1),
                LearningRate = args.Double("lr", 1e-3, min: 1e-9, max: 10),
                Seed = args.Int("seed", 42),
            },
            Split = new SplitFractions(args.Double("validation", 0.2, 0, 0.9), args.Double("test", 0.1, 0, 0.9)),
            Device = TorchDevices.Parse(args.Optional("device") ?? "auto"),
        };
        var output = args.Optional("out") ?? Path.Combine("models", $"happysad-{DateTime.Now:yyyyMMdd-HHmmss}{ModelStore.Extension}");
        request.Split.Validate();

        var load = cli.LoadFolder(data, quiet: json);
        var epochs = request.Fit.Epochs;
        var progress = new LambdaCallback(
            onEpochEnd: e =>
            {
                cli.Progress.Clear();
                if (!json)
                    cli.Output.WriteLine(FormatEpoch(e, epochs));
            },
            onBatchEnd: b => cli.Progress.Report($"Epoch {b.Epoch}/{epochs}", b.Batch, b.BatchesPerEpoch, $"loss {b.Loss:0.0000}"));

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
            cli.Output.WriteLine($"Test ({m.Count} images, positive class '{test.PositiveClass}'): accuracy {m.Accuracy:0.000}, precision {m.Precision:0.000}, recall {m.Recall:0.000}, F1 {m.F1:0.000}, balanced accuracy {m.BalancedAccuracy:0.000}");
            cli.Output.WriteLine($"Saved model to {output}");
        }
        return 0;
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
