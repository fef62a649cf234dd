using HappySad.Training.Data;
using HappySad.Training.Persistence;

namespace HappySad.Web.Cli.Commands;

internal static class PredictCommand
{
    /// <summary>Each image gets its own verdict or its own error: one bad file does not stop the rest.</summary>
    public static async Task<int> RunAsync(CliContext cli, CliArguments args)
    {
        var json = args.Flag("json");
        var threshold = args.Double("threshold", 0.5, 0, 1);
        if (args.Positionals.Count == 0)
            throw new UsageException("'predict' needs at least one image path");
        using var classifier = ModelStore.Load(args.Required("model"));

        var results = new List<Dictionary<string, object>>();
        foreach (var path in args.Positionals)
        {
            cli.CancellationToken.ThrowIfCancellationRequested();
            try
            {
                var prediction = classifier.Predict(path, threshold);
                var result = new Dictionary<string, object>
                {
                    ["path"] = path,
                    ["label"] = prediction.Label,
                    ["probability"] = prediction.Probability,
                    ["probabilities"] = prediction.ClassProbabilities,
                    ["low_confidence"] = prediction.LowConfidence,
                    ["region"] = prediction.Region,
                };
                if (prediction.Face is { } face)
                    result["face"] = face;
                results.Add(result);
                if (!json)
                {
                    var doubt = prediction.LowConfidence ? ", low confidence" : "";
                    cli.Output.WriteLine($"{path}: {prediction.Label} ({prediction.Probability:P1}{doubt}; looked at: {prediction.Region})");
                }
            }
            catch (Exception e) when (e is ImageRejectedException or IOException or UnauthorizedAccessException)
            {
                var reason = e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message;
                results.Add(new() { ["path"] = path, ["error"] = reason });
                if (!json)
                    cli.Error.WriteLine($"{path}: error: {reason}");
            }
        }
        if (json)
            await cli.WriteJsonAsync(results);
        return results.Any(r => r.ContainsKey("error")) ? 1 : 0;
    }
}
