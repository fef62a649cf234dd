using System.Text.Json;
using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Web.Cli;
using HappySad.Web.DataSets;
using HappySad.Web.Extensions;
using HappySad.Web.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace HappySad.Tests.Web.Cli;

public class ImportCommandTests
{
    [Fact]
    public async Task ImportsAClassFolderIntoTheAppsStorageAndIsIdempotent()
    {
        using var source = SharedPhotos.Subset(4);
        using var data = new TempDirectory();

        var (code, output) = await Run("import", "--data", source.Path, "--name", "seed", "--data-dir", data.Path);
        Assert.Equal(0, code);
        Assert.Contains("Created data set 'seed' (id 1)", output, StringComparison.Ordinal);
        Assert.Contains("8 accepted, 0 rejected, 0 duplicates", output, StringComparison.Ordinal);
        Assert.Equal(4, Directory.EnumerateFiles(Path.Combine(data.Path, "datasets", "1", "happy")).Count());
        Assert.True(File.Exists(Path.Combine(data.Path, "happysad.db")));

        // Running it again adds nothing: every file is a duplicate of itself.
        var (again, secondOutput) = await Run("import", "--data", source.Path, "--name", "seed", "--data-dir", data.Path);
        Assert.Equal(0, again);
        Assert.Contains("Added to data set 'seed' (id 1)", secondOutput, StringComparison.Ordinal);
        Assert.Contains("0 accepted, 0 rejected, 8 duplicates", secondOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportsClassFoldersNamedInAnyScript()
    {
        using var source = SharedPhotos.Subset(2);
        Directory.Move(Path.Combine(source.Path, "happy"), Path.Combine(source.Path, "glücklich"));
        Directory.Move(Path.Combine(source.Path, "sad"), Path.Combine(source.Path, "दुखी"));
        using var data = new TempDirectory();

        var (code, output) = await Run("import", "--data", source.Path, "--name", "gefühle", "--data-dir", data.Path);

        Assert.True(code == 0, output);
        Assert.Contains("4 accepted, 0 rejected, 0 duplicates", output, StringComparison.Ordinal);
        await using var storage = await AppStorage.OpenAsync(data.Path, CancellationToken.None);
        var dataSet = Assert.Single(await storage.Get<DataSetService>().ListAsync());
        Assert.Equal(["glücklich", "दुखी"], dataSet.ClassNames);
        Assert.Equal([2, 2], dataSet.ClassCounts);
        Assert.Equal(2, Directory.EnumerateFiles(storage.Get<StoragePaths>().ClassFolder(dataSet.Id, "दुखी")).Count());
    }

    /// <summary>One rule for the dashboard's dialog and for import's folders: letters of any script, and nothing that could leave its folder or pose as another name.</summary>
    [Theory]
    [InlineData("glücklich", true)]
    [InlineData("glu\u0308cklich", true)] // the same, decomposed (as some Mac tools write it)
    [InlineData("счастливый", true)]
    [InlineData("دلشاد", true)]
    [InlineData("दुखी", true)]
    [InlineData("嬉しい", true)]
    [InlineData("happy_2-b", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData("../etc", false)]
    [InlineData("a/b", false)]
    [InlineData("a\\b", false)]
    [InlineData("a.b", false)]
    [InlineData("a b", false)]
    [InlineData("a\tb", false)]
    [InlineData("a\u001Bb", false)]
    [InlineData("sad\u202Egpj", false)]
    [InlineData("ha\u200Bppy", false)]
    [InlineData("-happy", false)]
    [InlineData("\u0308happy", false)]
    [InlineData("😀", false)]
    [InlineData("happy\uFE0F", false)] // a variation selector: shows nothing, so it would look like "happy"
    [InlineData("ha\u034Fppy", false)] // the combining grapheme joiner
    [InlineData("\u3164happy", false)] // a Hangul filler, a letter that shows nothing
    [InlineData("happy\uFFA0", false)]
    public void ClassNamesAreLettersOfAnyScriptAndNothingThatCouldLeaveTheirFolder(string name, bool valid)
    {
        var problem = Record.Exception(() => DataSetService.ValidClassNames(name, "other"));

        Assert.True(valid == problem is null, problem?.Message ?? $"'{name}' was accepted");
        Assert.True(problem is null or DataSetException);
    }

    /// <summary>Names are kept composed, and two that would read as one cannot be a data set's two classes.</summary>
    [Fact]
    public void ClassNamesAreKeptComposedAndTwoThatReadAsOneAreRefused()
    {
        Assert.Equal(["glücklich", "traurig"], DataSetService.ValidClassNames("glu\u0308cklich", "traurig"));
        Assert.Throws<DataSetException>(() => DataSetService.ValidClassNames("glücklich", "glu\u0308cklich"));
        Assert.Throws<DataSetException>(() => DataSetService.ValidClassNames("happy", "ＨＡＰＰＹ"));
        Assert.Throws<DataSetException>(() => DataSetService.ValidClassNames("Sad", "sad"));
    }

    /// <summary>A folder whose accents are decomposed (as macOS tools write them) goes into the class typed with composed ones.</summary>
    [Fact]
    public async Task AClassFolderWithDecomposedAccentsImportsIntoTheComposedClass()
    {
        using var first = SharedPhotos.Subset(2);
        Directory.Move(Path.Combine(first.Path, "happy"), Path.Combine(first.Path, "glücklich"));
        Directory.Move(Path.Combine(first.Path, "sad"), Path.Combine(first.Path, "traurig"));
        using var second = SharedPhotos.Subset(3);
        Directory.Move(Path.Combine(second.Path, "happy"), Path.Combine(second.Path, "glu\u0308cklich"));
        Directory.Move(Path.Combine(second.Path, "sad"), Path.Combine(second.Path, "traurig"));
        using var data = new TempDirectory();

        var (firstCode, firstOutput) = await Run("import", "--data", first.Path, "--name", "gefühle", "--data-dir", data.Path);
        var (secondCode, secondOutput) = await Run("import", "--data", second.Path, "--name", "gefühle", "--data-dir", data.Path);

        Assert.True(firstCode == 0, firstOutput);
        Assert.True(secondCode == 0, secondOutput);
        Assert.Contains("2 accepted, 0 rejected, 4 duplicates", secondOutput, StringComparison.Ordinal);
        await using var storage = await AppStorage.OpenAsync(data.Path, CancellationToken.None);
        var dataSet = Assert.Single(await storage.Get<DataSetService>().ListAsync());
        Assert.Equal(["glücklich", "traurig"], dataSet.ClassNames);
        Assert.Equal([3, 3], dataSet.ClassCounts);
    }

    [Fact]
    public async Task AFolderWithoutTwoClassesIsAOneLineError()
    {
        using var source = new TempDirectory();
        using var data = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(source.Path, "only"));
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await CliApp.RunAsync(["import", "--data", source.Path, "--name", "x", "--data-dir", data.Path], output, error);

        Assert.Equal(1, code);
        Assert.StartsWith("error: data folder", error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().Trim().Split('\n'));
    }

    /// <summary>
    /// The command line reads the web app's configuration through the web app's own host builder:
    /// <c>appsettings.{Environment}.json</c> over <c>appsettings.json</c>, and <c>--data-dir</c> over both.
    /// </summary>
    [Fact]
    public async Task ImportUsesTheDataDirectoryOfTheEnvironmentsAppSettingsLikeTheDashboard()
    {
        using var source = SharedPhotos.Subset(2);
        using var content = new TempDirectory();
        var (shared, staging, given) = (Path.Combine(content.Path, "shared-data"), Path.Combine(content.Path, "staging-data"), Path.Combine(content.Path, "given-data"));
        File.WriteAllText(content.File("appsettings.json"), DataDirectorySetting(shared));
        File.WriteAllText(content.File("appsettings.Staging.json"), DataDirectorySetting(staging));
        var host = new WebApplicationOptions { ContentRootPath = content.Path, EnvironmentName = "Staging" };

        var (code, output, error) = await Run(host, "import", "--data", source.Path, "--name", "seed", "--json");
        var (givenCode, _, givenError) = await Run(host, "import", "--data", source.Path, "--name", "seed", "--data-dir", given);

        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        Assert.Equal(staging, report.RootElement.GetProperty("data_directory").GetString());
        Assert.True(File.Exists(Path.Combine(staging, "happysad.db")));
        Assert.False(Directory.Exists(shared));
        Assert.True(givenCode == 0, givenError);
        Assert.True(File.Exists(Path.Combine(given, "happysad.db")));

        // The dashboard, built from the same settings, opens the same data directory.
        var builder = WebApplication.CreateBuilder(host);
        builder.AddHappySadWeb([]);
        await using var app = builder.Build();
        Assert.Equal(staging, app.Services.GetRequiredService<StoragePaths>().Root);
    }

    static string DataDirectorySetting(string directory) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["StorageOptions"] = new Dictionary<string, string> { ["DataDirectory"] = directory } });

    static async Task<(int Code, string Output, string Error)> Run(WebApplicationOptions host, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error, host);
        return (code, output.ToString(), error.ToString());
    }

    static async Task<(int Code, string Output)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error);
        return (code, output + error.ToString());
    }
}
