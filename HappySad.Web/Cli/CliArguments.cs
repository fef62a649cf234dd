using System.Globalization;

namespace HappySad.Web.Cli;

/// <summary>A mistake in how a command was called; printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// <c>verb --name value --flag positional...</c>, checked against what the verb accepts so that a
/// typo is an error rather than silently ignored.
/// </summary>
internal sealed class CliArguments
{
    readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    CliArguments(string verb) => Verb = verb;

    public string Verb { get; }
    public List<string> Positionals { get; } = [];

    /// <param name="options">Options that take a value.</param>
    /// <param name="flags">Options that stand alone.</param>
    public static CliArguments Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> options, IReadOnlyCollection<string> flags)
    {
        var parsed = new CliArguments(args[0]);
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                parsed.Positionals.Add(arg);
                continue;
            }
            var (name, inline) = arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 0
                ? (arg[2..eq], arg[(eq + 1)..])
                : (arg[2..], null);
            if (flags.Contains(name) && inline is null)
                parsed._flags.Add(name);
            else if (options.Contains(name))
                parsed._values[name] = inline ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"--{name} needs a value"));
            else
                throw new UsageException($"'{parsed.Verb}' has no option --{name} (try: happysad help)");
        }
        return parsed;
    }

    public bool Flag(string name) => _flags.Contains(name);

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    public string Required(string name) =>
        _values.GetValueOrDefault(name) ?? throw new UsageException($"'{Verb}' needs --{name}");

    public int Int(string name, int fallback, int min = int.MinValue)
    {
        if (Optional(name) is not { } text)
            return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new UsageException($"--{name} must be a whole number (got '{text}')");
        return value >= min ? value : throw new UsageException($"--{name} must be at least {min} (got {value})");
    }

    public double Double(string name, double fallback, double min, double max)
    {
        if (Optional(name) is not { } text)
            return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value))
            throw new UsageException($"--{name} must be a number (got '{text}')");
        return value >= min && value <= max ? value : throw new UsageException($"--{name} must be between {min} and {max} (got {value})");
    }
}
