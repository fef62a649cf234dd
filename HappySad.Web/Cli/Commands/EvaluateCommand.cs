using System.CommandLine;
using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Persistence;

namespace HappySad.Web.Cli.Commands;

internal static class EvaluateCommand
{
    public static Command Create(CliContext cli)
    {
        var model = new Option<string>("--model") { Description = "A saved model (.hsmodel).", HelpName = "FILE", Required = true };
        var data = CliOptions.Data("A class-folder data set; its folders are matched to the model's classes by name.");
        var threshold = CliOptions.Threshold();
        var json = CliOptions.Json();
        var command = new Command("evaluate", "Metrics and confusion counts of a model on a data set, and the photos it got wrong.") { model, data, threshold, json };
        command.SetAction((parse, _) => RunAsync(cli.ForJson(parse.GetValue(json)), parse.GetRequiredValue(model), parse.GetRequiredValue(data), parse.GetValue(threshold), parse.GetValue(json)));
        return command;
    }

    static async Task<int> RunAsync(CliContext cli, string model, string data, double threshold, bool json)
    {
        using var classifier = ModelStore.Load(model);
        var load = cli.LoadFolder(data, quiet: json, classifier.Preparation);
        // Metrics of nothing would read as a model that got everything wrong.
        if (load.Images.Count == 0)
            throw new DataSetException($"no usable photo in '{data}' to evaluate on ({load.Rejected.Count} refused)");
        var result = Evaluator.Evaluate(classifier, load, threshold, cli.CancellationToken);
        var m = result.Metrics;
        if (json)
        {
            await cli.WriteJsonAsync(EvaluateReport.From(m, result.ByRegion));
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
}
