using System.CommandLine;
using System.Globalization;

namespace HappySad.Web.Cli;

/// <summary>
/// Options several verbs share, spelled and described once, and typed options whose values parse
/// the same way on every machine (invariant culture: <c>--lr 0.001</c> means the same under any locale).
/// Each call makes a new option: an option belongs to the command it is added to.
/// </summary>
internal static class CliOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON document instead of text (its shape is in the README)." };

    public static Option<string> Data(string description = "A class-folder data set: one subfolder per class, e.g. happy/ and sad/.") =>
        new("--data") { Description = description, HelpName = "DIR", Required = true };

    public static Option<string?> Cache() => new("--cache")
    {
        Description = "Decode the photos once into a pixel cache in this folder and train from it a batch at a time, so memory does not grow with the data set; a later command on the same photos reuses it. Default: decode into memory.",
        HelpName = "DIR",
    };

    public static Option<string?> DataDirectory(string description) => new("--data-dir") { Description = description, HelpName = "DIR" };

    public static Option<double> Threshold() =>
        Number("--threshold", "Probability of the second class above which a photo gets that class.", 0.5, min: 0, max: 1);

    public static Option<int> Int(string name, string description, int defaultValue, int min = int.MinValue, string helpName = "N")
    {
        var option = new Option<int>(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                result.AddError($"{name} must be a whole number (got '{text}')");
            else if (value < min)
                result.AddError($"{name} must be at least {min} (got {value})");
            return value;
        };
        return option;
    }

    /// <param name="min">Null where a single validation elsewhere owns the range (a run's recipe: <see cref="HappySad.Training.Training.RunRecipe.Problems"/>).</param>
    public static Option<double> Number(string name, string description, double defaultValue, double? min = null, double? max = null)
    {
        var option = new Option<double>(name) { Description = description, HelpName = "X", DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value))
                result.AddError($"{name} must be a number (got '{text}')");
            else if (value < min || value > max)
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max} (got {value})"));
            return value;
        };
        return option;
    }

    /// <summary>An option that takes one of a few words (case-insensitive), listed in help as <c>a|b|c</c>.</summary>
    /// <param name="choices">Each accepted word and its value; help lists them in this order.</param>
    /// <param name="defaultWord">
    /// Shown in help as the default. The option itself has none (its value is the type's default when
    /// left out), so that the caller decides what leaving it out means.
    /// </param>
    public static Option<T> OneOf<T>(string name, string description, IReadOnlyList<(string Word, T Value)> choices, string? defaultWord = null)
    {
        var words = choices.Select(c => c.Word).ToArray();
        var option = new Option<T>(name)
        {
            Description = defaultWord is null ? description : $"{description} [default: {defaultWord}]",
            HelpName = string.Join('|', words),
        };
        option.CompletionSources.Add(words);
        option.CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            foreach (var (word, value) in choices)
            {
                if (string.Equals(word, text.Trim(), StringComparison.OrdinalIgnoreCase))
                    return value;
            }
            result.AddError($"{name} must be one of {string.Join(", ", words)} (got '{text}')");
            return default;
        };
        return option;
    }
}
