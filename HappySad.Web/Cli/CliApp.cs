using System.CommandLine;
using System.CommandLine.Help;
using HappySad.Training.Data;
using HappySad.Training.Persistence;
using HappySad.Training.Pretrained;
using HappySad.Training.Training;
using HappySad.Web.Cli.Commands;
using HappySad.Web.Runs;

namespace HappySad.Web.Cli;

/// <summary>A mistake in how a command was called; printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The command line. It lives in the web app's executable, so <c>dotnet run --project HappySad.Web -- train ...</c>
/// and the published <c>HappySad.Web train ...</c> use the same core as the dashboard. Each verb
/// defines its options once (<c>Commands/</c>); parsing, checking and help come from those definitions.
/// </summary>
internal static class CliApp
{
    const string Description = """
        HappySad: train and use happy/sad photo classifiers. Without a command, the executable runs the web dashboard.

        A data folder holds one subfolder per class (e.g. happy/ and sad/). Probabilities are of the second class in
        ordinal name order ('sad'), as in the notebook.
        """;

    static readonly ParserConfiguration Parsing = new()
    {
        // An argument starting with @ is a file name, not a response file.
        ResponseFileTokenReplacer = null,
    };

    static string[] HelpWords { get; } = ["--help", "-h", "-?"];

    /// <summary>
    /// Whether <paramref name="args"/> ask for a command rather than the dashboard: a help word, or a
    /// first word that is not an option or a <c>key=value</c> setting (the only arguments the web app
    /// takes). A mistyped verb is then the command line's usage error, not a web server started by surprise.
    /// </summary>
    public static bool IsCommand(string[] args) =>
        args.Length > 0 && (HelpWords.Contains(args[0]) || (args[0] is [var first, ..] && char.IsLetter(first) && !args[0].Contains('=', StringComparison.Ordinal)));

    public static RootCommand CreateRootCommand(CliContext cli)
    {
        var root = new RootCommand(Description)
        {
            TrainCommand.Create(cli),
            CrossValidateCommand.Create(cli),
            EvaluateCommand.Create(cli),
            PredictCommand.Create(cli),
            ScanCommand.Create(cli),
            FacesCommand.Create(cli),
            ImportCommand.Create(cli),
            BenchCommand.Create(cli),
            InfoCommand.Create(cli),
            WorkerCommand.Create(cli),
            UsersCommand.Create(cli),
        };
        // The version option would never be reached: without a command the executable runs the dashboard.
        foreach (var version in root.Options.OfType<VersionOption>().ToList())
            root.Options.Remove(version);

        var verb = new Argument<string?>("COMMAND") { Description = "The command to describe.", HelpName = "COMMAND", Arity = ArgumentArity.ZeroOrOne };
        verb.AcceptOnlyFromAmong([.. root.Subcommands.Select(c => c.Name)]);
        var help = new Command("help", "Show this help, or a command's.") { verb };
        help.SetAction(parse =>
        {
            string[] asked = parse.GetValue(verb) is { } name ? [name, "--help"] : ["--help"];
            return root.Parse(asked, Parsing).Invoke(parse.InvocationConfiguration);
        });
        root.Subcommands.Add(help);
        return root;
    }

    /// <returns>0 on success, 1 when the data or a file is wrong, 2 for a usage mistake, 130 when cancelled.</returns>
    /// <param name="host">Where storage commands read configuration from; null for the web app's own (tests point it elsewhere).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, WebApplicationOptions? host = null, CancellationToken cancellationToken = default)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var cli = new CliContext(output, error, ConsoleProgress.For(error, json: false), cancel.Token, host);
        var parse = CreateRootCommand(cli).Parse(args, Parsing);
        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
            // Ctrl+C is ours (below): a recorded run must have time to be recorded as Cancelled.
            ProcessTerminationTimeout = null,
        };
        if (parse.Action is not HelpAction && parse.Errors.Count > 0)
        {
            var errors = string.Join(" ", parse.Errors.Select(e => string.Join(' ', e.Message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))).Distinct());
            await error.WriteLineAsync($"error: {errors} (see: {HelpCommandLine(parse)})");
            return 2;
        }

        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await parse.InvokeAsync(invocation, cancel.Token);
        }
        catch (Exception e) when (e is UsageException or RunRecipeException)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("cancelled");
            return 130;
        }
        catch (Exception e) when (e is DataSetException or ModelFormatException or ImageRejectedException or ArgumentException or PretrainedUnavailableException
                                      or RunFailedException or ApiRequestException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"error: {OneLine(e.Message)}");
            if (Debug)
                await error.WriteLineAsync(e.ToString());
            return 1;
        }
        catch (Exception e)
        {
            // Never a stack trace on the console; set HAPPYSAD_DEBUG=1 to see one.
            await error.WriteLineAsync($"error: unexpected {e.GetType().Name}: {OneLine(e.Message)}");
            if (Debug)
                await error.WriteLineAsync(e.ToString());
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>How to ask for help about the command that was mistyped.</summary>
    static string HelpCommandLine(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is { Command: not RootCommand }; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, result.Command.Name);
        return string.Join(' ', [RootCommand.ExecutableName, .. names, "--help"]);
    }

    static bool Debug => Environment.GetEnvironmentVariable("HAPPYSAD_DEBUG") == "1";

    static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
