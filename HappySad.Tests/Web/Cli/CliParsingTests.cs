using System.Text.RegularExpressions;
using HappySad.Training.Training;
using HappySad.Web.Cli;

namespace HappySad.Tests.Web.Cli;

/// <summary>What the command line accepts and how it says no, from the verbs' own definitions.</summary>
public class CliParsingTests
{
    static readonly string[] RecipeOptions =
        ["--preset", "--model", "--crop", "--epochs", "--batch-size", "--lr", "--seed", "--validation", "--test", "--device",
         "--augment", "--weight-decay", "--dropout", "--patience", "--schedule", "--fine-tune"];

    public static TheoryData<string> Verbs => [.. CliApp.CreateRootCommand(CliContext.Silent).Subcommands.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task HelpListsEveryOptionOfTheCommand(string verb)
    {
        var command = CliApp.CreateRootCommand(CliContext.Silent).Subcommands.Single(c => c.Name == verb);

        var (code, output, error) = await Run(verb, "--help");

        Assert.True(code == 0, error);
        // Hidden options are the command's own plumbing (bench's child processes), not for people.
        foreach (var option in command.Options.Where(o => !o.Hidden).Select(o => o.Name).Append("--help"))
            Assert.Matches(OptionLine(option), output);
        foreach (var hidden in command.Options.Where(o => o.Hidden))
            Assert.DoesNotMatch(OptionLine(hidden.Name), output);
    }

    [Theory]
    [InlineData("train", "--data", "--out", "--record", "--data-dir", "--json")]
    [InlineData("crossval", "--data", "--folds", "--json")]
    public async Task TrainAndCrossValidationShareTheRecipeOptionsWithTheNotebooksDefaults(string verb, params string[] own)
    {
        var (code, output, _) = await Run("help", verb);

        Assert.Equal(0, code);
        foreach (var option in own.Concat(RecipeOptions))
            Assert.Matches(OptionLine(option), output);
        Assert.Matches(@"(?m)^\s+--epochs <N>\s.*\[default: 20\]", output);
        Assert.Matches(@"(?m)^\s+--lr <X>\s.*\[default: 0\.001\]", output);
        Assert.Matches(@"(?m)^\s+--model <TYPE>\s.*\[default: seed-cnn\]", output);
    }

    [Fact]
    public async Task RootHelpListsEveryCommand()
    {
        var (code, output, _) = await Run("--help");

        Assert.Equal(0, code);
        foreach (var verb in new[] { "train", "crossval", "evaluate", "predict", "scan", "faces", "import", "bench", "info", "help" })
            Assert.Matches($@"(?m)^\s+{verb}\b", output);
    }

    /// <summary>A mistyped verb is the command line's usage error; only options and key=value settings start the dashboard.</summary>
    [Theory]
    [InlineData(new[] { "trian", "--data", "x" }, true)]
    [InlineData(new[] { "Train" }, true)]
    [InlineData(new[] { "train" }, true)]
    [InlineData(new[] { "--help" }, true)]
    [InlineData(new[] { "--urls", "http://127.0.0.1:0" }, false)]
    [InlineData(new[] { "AllowedHosts=happysad.example.com" }, false)]
    [InlineData(new string[0], false)]
    public void AFirstWordThatIsNotASettingIsACommand(string[] args, bool command) =>
        Assert.Equal(command, CliApp.IsCommand(args));

    /// <summary>An --out that could not take the model is refused before anything is trained.</summary>
    [Fact]
    public async Task AnOutThatCannotTakeTheModelIsRefusedBeforeTraining()
    {
        using var temp = new HappySad.Tests.Support.TempDirectory();
        Directory.CreateDirectory(temp.File("data/happy"));

        var (folder, _, folderError) = await Run("train", "--data", temp.File("data"), "--out", temp.Path);
        var (inside, _, insideError) = await Run("train", "--data", temp.File("data"), "--out", temp.File("data/happy/model.hsmodel"));

        Assert.Equal((2, 2), (folder, inside));
        Assert.Contains("is a folder", folderError, StringComparison.Ordinal);
        Assert.Contains("is inside the data folder", insideError, StringComparison.Ordinal);
        Assert.False(File.Exists(temp.File("data/happy/model.hsmodel")));
    }

    /// <summary>A quarantine inside the data folder would keep the files it moves in the data set: refused before anything moves.</summary>
    [Fact]
    public async Task AQuarantineInsideTheDataFolderIsRefused()
    {
        using var temp = new HappySad.Tests.Support.TempDirectory();
        File.WriteAllText(temp.File("data/happy/notes.txt"), "to do");
        Directory.CreateDirectory(temp.File("data/sad"));

        var (code, _, error) = await Run("scan", "--data", temp.File("data"), "--quarantine", temp.File("data/sad/q"));

        Assert.Equal(2, code);
        Assert.Contains("is inside the data folder", error, StringComparison.Ordinal);
        Assert.True(File.Exists(temp.File("data/happy/notes.txt")));
    }

    [Fact]
    public async Task BenchAgainstAnAddressThatIsNoneIsAUsageError()
    {
        var (code, _, error) = await Run("bench", "--api", "notaurl", "--model", "run-1", "--token", "t", "--data", "x");

        Assert.Equal(2, code);
        Assert.Contains("--api 'notaurl' is not an http:// or https:// address", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMistypedVerbIsAUsageError()
    {
        var (code, _, error) = await Run("trian", "--data", "x");

        Assert.Equal(2, code);
        Assert.Contains("Unrecognized command or argument 'trian'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASubcommandsUsageErrorPointsToItsWholeCommandsHelp()
    {
        var (code, _, error) = await Run("users", "add", "--role", "editor");

        Assert.Equal(2, code);
        Assert.EndsWith(" users add --help)", error.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownOptionIsAUsageErrorThatNamesItAndPointsToTheCommandsHelp()
    {
        var (code, output, error) = await Run("scan", "--data", "x", "--frobnicate");

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains("'--frobnicate'", error, StringComparison.Ordinal);
        Assert.Contains("scan --help", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("train", "0")]
    [InlineData("train", "-0.01")]
    [InlineData("train", "11")]
    [InlineData("crossval", "0")]
    public async Task AnOutOfRangeLearningRateIsRefusedInTheDashboardsWords(string verb, string learningRate)
    {
        var recipe = new RunRecipe { LearningRate = double.Parse(learningRate, System.Globalization.CultureInfo.InvariantCulture) };
        var expected = new RunRecipeException(recipe.Problems(cudaAvailable: false)).Message;

        var (code, output, error) = await Run(verb, "--data", "x", "--lr", learningRate);

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Equal($"error: {expected}", error.Trim());
    }

    /// <summary>The command line has no bounds of its own: a rate the dashboard accepts gets as far as reading the data.</summary>
    [Fact]
    public async Task ATinyLearningRateTheDashboardAcceptsIsAccepted()
    {
        var (code, _, error) = await Run("train", "--data", "/no/such/folder", "--lr", "1e-12");

        Assert.Equal(1, code);
        Assert.DoesNotContain("--lr", error, StringComparison.Ordinal);
    }

    static Regex OptionLine(string name) => new($@"(?m)^\s+(?:\S+, )*{Regex.Escape(name)}(?: <| |$)");

    static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
