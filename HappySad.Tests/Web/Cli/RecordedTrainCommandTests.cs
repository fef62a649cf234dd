using System.Text.Json;
using HappySad.Tests.Support;
using HappySad.Web.Cli;
using HappySad.Web.Data;
using HappySad.Web.Runs;
using HappySad.Web.Storage;

namespace HappySad.Tests.Web.Cli;

[Collection(TorchTraining.Name)]
public class RecordedTrainCommandTests
{
    [Fact]
    public async Task TrainWithRecordLeavesTheSameRecordAsTheDashboardInTheDataDirectory()
    {
        using var source = SharedPhotos.Subset(10);
        using var data = new TempDirectory();
        using var copy = new TempDirectory();
        var copied = Path.Combine(copy.Path, "seed.hsmodel");
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await CliApp.RunAsync(["train", "--record", "--data", source.Path, "--epochs", "2", "--batch-size", "8", "--data-dir", data.Path, "--out", copied, "--name", "seed subset"], output, error);

        Assert.True(code == 0, error.ToString());
        Assert.Contains("Recording as run 1 in ", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("Epoch 2/2", output.ToString(), StringComparison.Ordinal);
        await using var storage = await AppStorage.OpenAsync(data.Path, CancellationToken.None);
        var run = Assert.Single(await storage.Get<RunService>().ListAsync());
        var recorded = (await storage.Get<RunService>().GetAsync(run.Id))!;
        Assert.Equal((RunStatus.Succeeded, RunSource.CommandLine, Path.GetFullPath(source.Path), "seed subset"), (recorded.Status, recorded.Source, recorded.DataName, recorded.Name));
        Assert.Equal([1, 2], recorded.History.Select(e => e.Epoch));
        Assert.Equal(20, (await storage.Get<RunService>().ImagesAsync(run.Id)).Count);
        var model = storage.Get<StoragePaths>().Absolute(recorded.ModelPath!);
        Assert.Equal(await File.ReadAllBytesAsync(model), await File.ReadAllBytesAsync(copied));
    }

    /// <summary>Scripts read one shape: the recorded run adds its id, data directory and snapshot, and changes nothing else.</summary>
    [Fact]
    public async Task TrainJsonHasOneShapeWithOrWithoutRecord()
    {
        using var source = SharedPhotos.Subset(10);
        using var data = new TempDirectory();
        using var temp = new TempDirectory();
        using var output = new StringWriter();
        using var recordedOutput = new StringWriter();
        using var error = new StringWriter();

        var code = await CliApp.RunAsync(["train", "--data", source.Path, "--epochs", "1", "--batch-size", "8", "--out", temp.File("m.hsmodel"), "--json"], output, error);
        var recordedCode = await CliApp.RunAsync(["train", "--record", "--data", source.Path, "--epochs", "1", "--batch-size", "8", "--data-dir", data.Path, "--json"], recordedOutput, error);

        Assert.True(code == 0 && recordedCode == 0, error.ToString());
        using var plain = JsonDocument.Parse(output.ToString());
        using var recorded = JsonDocument.Parse(recordedOutput.ToString());
        Assert.Equal([.. Keys(plain.RootElement), "run_id", "data_directory", "snapshot"], Keys(recorded.RootElement));
        foreach (var part in new[] { "images", "test" })
            Assert.Equal(Keys(plain.RootElement.GetProperty(part)), Keys(recorded.RootElement.GetProperty(part)));
        Assert.Equal(Keys(plain.RootElement.GetProperty("epochs")[0]), Keys(recorded.RootElement.GetProperty("epochs")[0]));
        Assert.Equal(recorded.RootElement.GetProperty("images").GetProperty("test").GetInt32(), recorded.RootElement.GetProperty("test").GetProperty("n").GetInt32());
        Assert.True(recorded.RootElement.GetProperty("seconds").GetDouble() > 0);
    }

    /// <summary>A recorded run that kept no photo for testing has no test metrics: null in JSON and said so in text, not zeros.</summary>
    [Fact]
    public async Task ARecordedRunWithoutTestPhotosReportsNoTestMetricsRatherThanZeros()
    {
        using var source = SharedPhotos.Subset(10);
        using var data = new TempDirectory();
        using var output = new StringWriter();
        using var textOutput = new StringWriter();
        using var error = new StringWriter();

        var code = await CliApp.RunAsync(["train", "--record", "--data", source.Path, "--epochs", "1", "--validation", "0", "--test", "0", "--data-dir", data.Path, "--json"], output, error);
        var textCode = await CliApp.RunAsync(["train", "--record", "--data", source.Path, "--epochs", "1", "--validation", "0", "--test", "0", "--data-dir", data.Path], textOutput, error);

        Assert.True(code == 0 && textCode == 0, error.ToString());
        using var recorded = JsonDocument.Parse(output.ToString());
        Assert.Equal(0, recorded.RootElement.GetProperty("images").GetProperty("test").GetInt32());
        Assert.Equal(JsonValueKind.Null, recorded.RootElement.GetProperty("test").ValueKind);
        Assert.Contains("Test: no test photos", textOutput.ToString(), StringComparison.Ordinal);
    }

    static List<string> Keys(JsonElement element) => element.EnumerateObject().Select(p => p.Name).ToList();

    [Fact]
    public async Task DataDirWithoutRecordIsAUsageError()
    {
        using var source = SharedPhotos.Subset(10);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await CliApp.RunAsync(["train", "--data", source.Path, "--data-dir", "x"], output, error);

        Assert.Equal(2, code);
        Assert.Equal("error: --data-dir only applies with --record (the database to record the run in)", error.ToString().Trim());
    }

    [Fact]
    public async Task NameWithoutRecordIsAUsageError()
    {
        using var source = SharedPhotos.Subset(10);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await CliApp.RunAsync(["train", "--data", source.Path, "--name", "baseline"], output, error);

        Assert.Equal(2, code);
        Assert.Equal("error: --name only applies with --record (a name for the recorded run)", error.ToString().Trim());
    }
}
