using System.Text.Json;
using HappySad.Training.Data;
using HappySad.Training.Persistence;
using HappySad.Training.Pretrained;
using HappySad.Web.Cli.Commands;
using HappySad.Web.Services;

namespace HappySad.Web.Cli;

/// <summary>
/// The command line. It lives in the web app's executable, so <c>dotnet run --project HappySad.Web -- train ...</c>
/// and the published <c>HappySad.Web train ...</c> use the same core as the dashboard.
/// </summary>
internal static class CliApp
{
    internal const string Usage = """
        HappySad: train and use happy/sad photo classifiers.

        Usage: HappySad.Web <command> [options]   (no command: run the web dashboard)

          train     --data DIR [--epochs N] [--batch-size N] [--lr X] [--seed N] [--out FILE]
                    [--validation X] [--test X] [--device auto|cpu|cuda] [--json]
                    [--preset notebook|best] [--model seed-cnn|compact-cnn|face-expression|face-verdict|face-and-whole]
                    [--crop none|face|face-and-whole] [--augment] [--weight-decay X] [--dropout X]
                    [--patience N] [--schedule constant|cosine] [--fine-tune]
                    [--record [--data-dir DIR]]  (records the run in the dashboard's database;
                    it appears on the Runs page with its curves, snapshot and model)
          crossval  --data DIR [--folds 5] [the train options above]
                    (stratified k-fold cross-validation: mean and spread of balanced accuracy)
          evaluate  --model FILE --data DIR [--threshold X] [--json]
          predict   --model FILE IMAGE... [--threshold X] [--json]
          scan      --data DIR [--quarantine DIR] [--json]
          faces     --data DIR [--labels FILE] [--json]
                    (each face detector setting: faces found, time per photo; with a labels
                    file of file,label,faces,note rows, recall and false detections)
          import    --data DIR --name NAME [--data-dir DIR] [--json]
                    (copies a class-folder data set into the dashboard's storage)
          bench     --data DIR [--epochs N]
          bench     --api URL --model ID --data DIR [--clients 8] [--seconds 20]
                    (predict API latency and throughput against a running app)
          info      [--json]
          help

        A data folder holds one subfolder per class (e.g. happy/ and sad/). Probabilities are of
        the second class in ordinal name order ('sad'), as in the notebook.
        """;

    static readonly Dictionary<string, Func<CliContext, CliArguments, Task<int>>> Commands = new(StringComparer.Ordinal)
    {
        ["train"] = TrainCommand.RunAsync,
        ["crossval"] = CrossValidateCommand.RunAsync,
        ["evaluate"] = EvaluateCommand.RunAsync,
        ["predict"] = PredictCommand.RunAsync,
        ["scan"] = ScanCommand.RunAsync,
        ["faces"] = FacesCommand.RunAsync,
        ["import"] = ImportCommand.RunAsync,
        ["bench"] = BenchCommand.RunAsync,
        ["info"] = InfoCommand.RunAsync,
    };

    static readonly Dictionary<string, (string[] Options, string[] Flags)> Accepted = new(StringComparer.Ordinal)
    {
        ["train"] = ([.. TrainCommand.SettingOptions, "data", "out", "data-dir"], [.. TrainCommand.SettingFlags, "json", "record"]),
        ["crossval"] = ([.. TrainCommand.SettingOptions, "data", "folds"], [.. TrainCommand.SettingFlags, "json"]),
        ["evaluate"] = (["model", "data", "threshold"], ["json"]),
        ["predict"] = (["model", "threshold"], ["json"]),
        ["scan"] = (["data", "quarantine"], ["json"]),
        ["faces"] = (["data", "labels"], ["json"]),
        ["import"] = (["data", "name", "data-dir"], ["json"]),
        ["bench"] = (["data", "epochs", "api", "model", "clients", "seconds"], ["json"]),
        ["info"] = ([], ["json"]),
    };

    public static bool IsCommand(string[] args) =>
        args.Length > 0 && (Commands.ContainsKey(args[0]) || args[0] is "help" or "--help" or "-h");

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        if (args[0] is "help" or "--help" or "-h")
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return 0;
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var (options, flags) = Accepted[args[0]];
            var arguments = CliArguments.Parse(args, options, flags);
            var context = new CliContext(output, error, ConsoleProgress.For(error, arguments.Flag("json")), cancel.Token);
            return await Commands[args[0]](context, arguments).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
        catch (Exception e) when (e is DataSetException or ModelFormatException or ImageRejectedException or ArgumentException or PretrainedUnavailableException
                                      or RunFailedException or ApiRequestException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"error: {OneLine(e.Message)}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception e)
        {
            // Never a stack trace on the console; set HAPPYSAD_DEBUG=1 to see one.
            await error.WriteLineAsync($"error: unexpected {e.GetType().Name}: {OneLine(e.Message)}").ConfigureAwait(false);
            if (Environment.GetEnvironmentVariable("HAPPYSAD_DEBUG") == "1")
                await error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}

/// <summary>What every command writes to and listens to.</summary>
internal sealed record CliContext(TextWriter Output, TextWriter Error, ConsoleProgress Progress, CancellationToken CancellationToken)
{
    public static readonly JsonSerializerOptions Json = new(ModelCard.JsonOptions) { WriteIndented = true };

    public Task WriteJsonAsync<T>(T document) => Output.WriteLineAsync(JsonSerializer.Serialize(document, Json));

    /// <summary>Loads a class-folder data set with a progress bar and a one-line summary.</summary>
    public ImageFolderLoad LoadFolder(string directory, bool quiet, ImagePreparation? preparation = null)
    {
        var folder = ImageFolder.Open(directory);
        var load = folder.Load(preparation ?? ImagePreparation.Notebook, progress: new InlineProgress<int>(n => Progress.Report("Loading", n, folder.Files.Count)), cancellationToken: CancellationToken);
        Progress.Clear();
        if (!quiet)
        {
            var counts = string.Join(", ", load.Images.ClassNames.Select((name, label) => $"{name} {load.Images.CountOf(label)}"));
            Output.WriteLine($"Loaded {load.Images.Count} images from {directory} ({counts}); {load.Rejected.Count} rejected, {load.Mislabeled.Count} with a misleading extension");
            if (load.FacesFound is { } faces)
                Output.WriteLine(load.Images.Views == 2
                    ? $"Face crop: a face was found in {faces} of {load.Images.Count} images; the others are read from the whole photo alone"
                    : $"Face crop: a face was found in {faces} of {load.Images.Count} images; the others are used whole");
            foreach (var rejected in load.Rejected)
                Output.WriteLine($"  rejected {rejected.Path}: {rejected.Reason}");
        }
        return load;
    }
}

/// <summary>Reports on the calling thread, unlike <see cref="Progress{T}"/>, so nothing arrives after the bar is cleared.</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
