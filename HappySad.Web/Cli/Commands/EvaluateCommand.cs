using HappySad.Training.Evaluation;
using HappySad.Training.Persistence;

namespace HappySad.Web.Cli.Commands;

internal static class EvaluateCommand
{
    public static async Task<int> RunAsync(CliContext cli, CliArguments args)
    {
        var json = args.Flag("json");
        var threshold = args.Double("threshold", 0.5, 0, 1);
        using var classifier = ModelStore.Load(args.Required("model"));
        var load = cli.LoadFolder(args.Required("data"), quiet: json, classifier.Preparation);
        var result = Evaluator.Evaluate(classifier, load, threshold, cli.CancellationToken);
        var m = result.Metrics;
        if (json)
        {
            var document = MetricsDocument(m);
            document["by_region"] = result.ByRegion.ToDictionary(r => r.Key, r => (object)MetricsDocument(r.Value));
            await cli.WriteJsonAsync(document);
            return 0;
        }
        cli.Output.WriteLine($"Positive class: {result.PositiveClass}; threshold {threshold}");
        cli.Output.WriteLine($"accuracy {m.Accuracy:0.000}  precision {m.Precision:0.000}  recall {m.Recall:0.000}  F1 {m.F1:0.000}  balanced accuracy {m.BalancedAccuracy:0.000}  (n = {m.Count})");
        cli.Output.WriteLine($"confusion: tp {m.TruePositives}  fp {m.FalsePositives}  tn {m.TrueNegatives}  fn {m.FalseNegatives}");
        if (classifier.Preparation.DetectsFaces)
        {
            foreach (var (region, r) in result.ByRegion)
                cli.Output.WriteLine($"  {region}: balanced accuracy {r.BalancedAccuracy:0.000}, accuracy {r.Accuracy:0.000} (n = {r.Count}; tp {r.TruePositives}  fp {r.FalsePositives}  tn {r.TrueNegatives}  fn {r.FalseNegatives})");
        }
        foreach (var mistake in result.Mistakes)
            cli.Output.WriteLine($"  wrong: {mistake.Path} is {result.ClassNames[mistake.Actual]}, predicted {result.ClassNames[mistake.Predicted]} (p({result.PositiveClass}) = {mistake.Probability:0.000})");
        return 0;
    }

    /// <summary>The keys scripts rely on; shared by <c>evaluate --json</c> and <c>train --json</c>.</summary>
    internal static Dictionary<string, object> MetricsDocument(BinaryMetrics m) => new()
    {
        ["accuracy"] = m.Accuracy,
        ["precision"] = m.Precision,
        ["recall"] = m.Recall,
        ["f1"] = m.F1,
        ["balanced_accuracy"] = m.BalancedAccuracy,
        ["tp"] = m.TruePositives,
        ["fp"] = m.FalsePositives,
        ["tn"] = m.TrueNegatives,
        ["fn"] = m.FalseNegatives,
        ["n"] = m.Count,
    };
}
