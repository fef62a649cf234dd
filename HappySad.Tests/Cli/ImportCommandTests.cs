using HappySad.Tests.Support;
using HappySad.Web.Cli;

namespace HappySad.Tests.Cli;

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

    static async Task<(int Code, string Output)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error);
        return (code, output + error.ToString());
    }
}
