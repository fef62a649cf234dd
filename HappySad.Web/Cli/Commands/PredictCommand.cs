using System.CommandLine;
using HappySad.Training.Data;
using HappySad.Training.Persistence;

namespace HappySad.Web.Cli.Commands;

internal static class PredictCommand
{
    public static Command Create(CliContext cli)
    {
        var model = new Option<string>("--model") { Description = "A saved model (.hsmodel).", HelpName = "FILE", Required = true };
        var images = new Argument<string[]>("IMAGE") { Description = "Photos to label.", Arity = ArgumentArity.OneOrMore };
        var threshold = CliOptions.Threshold();
        var json = CliOptions.Json();
        var command = new Command("predict", "Label each photo and say what the model read (its face or the whole photo); one bad file does not stop the others (exit code 1 if any failed).")
            { model, threshold, json, images };
        command.SetAction((parse, _) => RunAsync(cli.ForJson(parse.GetValue(json)), parse.GetRequiredValue(model), parse.GetRequiredValue(images), parse.GetValue(threshold), parse.GetValue(json)));
        return command;
    }

    /// <summary>Each image gets its own verdict or its own error: one bad file does not stop the rest.</summary>
    static async Task<int> RunAsync(CliContext cli, string model, IReadOnlyList<string> paths, double threshold, bool json)
    {
        using var classifier = ModelStore.Load(model);

        var results = new List<PredictReport>();
        foreach (var path in paths)
        {
            cli.CancellationToken.ThrowIfCancellationRequested();
            try
            {
                var prediction = classifier.Predict(path, threshold);
                results.Add(new PredictReport(path, prediction.Label, prediction.Probability, prediction.ClassProbabilities, prediction.LowConfidence, prediction.Region, prediction.Face));
                if (!json)
                {
                    var doubt = prediction.LowConfidence ? ", low confidence" : "";
                    cli.Output.WriteLine($"{path}: {prediction.Label} ({prediction.Probability:P1}{doubt}; looked at: {prediction.Region})");
                }
            }
            catch (Exception e) when (e is ImageRejectedException or IOException or UnauthorizedAccessException)
            {
                var reason = e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message;
                results.Add(new PredictReport(path, Error: reason));
                if (!json)
                    cli.Error.WriteLine($"{path}: error: {reason}");
            }
        }
        if (json)
            await cli.WriteJsonAsync(results);
        return results.Any(r => r.Error is not null) ? 1 : 0;
    }
}
