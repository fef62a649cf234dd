using HappySad.Tests.Support;
using HappySad.Web.Cli;
using HappySad.Web.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace HappySad.Tests.Web.Storage;

/// <summary>One process owns a data directory and alone tidies it; the others work beside it or, where that cannot be safe, refuse.</summary>
public sealed class DataDirectoryLockTests
{
    [Fact]
    public async Task ASecondAppOnASqliteDataDirectoryRefusesToStartAndSaysWhoOwnsIt()
    {
        using var data = new TempDirectory();
        using var first = new HappySadAppFactory(dataDirectory: data.Path);
        await first.CreateDataSetAsync();

        var log = new LogLines();
        using var factory = new HappySadAppFactory(dataDirectory: data.Path);
        using var second = factory.WithWebHostBuilder(b => b.ConfigureLogging(logging => logging.AddProvider(log)));
        Assert.NotNull(Record.Exception(() => second.Services));

        // Program.cs turns the refusal into its one-line message and exit code 1 (see the process test); the host logged why it did not start.
        var refused = Assert.Single(log.Exceptions.OfType<DataDirectoryInUseException>());
        Assert.Contains($"The data directory {data.Path} is in use by the web app, process {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommandBesideARunningAppLeavesItsFilesAloneAndTheAppsReleaseLetsTheNextOwnerTidy()
    {
        using var data = new TempDirectory();
        string spool, stray;
        using (var app = new HappySadAppFactory(dataDirectory: data.Path))
        {
            var id = await app.CreateDataSetAsync();
            var paths = app.Service<StoragePaths>();
            // As an upload in flight has it: a spool in .incoming, and a photo moved into its class folder whose row has not committed yet.
            spool = Path.Combine(paths.Incoming(id), "upload.zip");
            stray = Path.Combine(paths.ClassFolder(id, "happy"), "committing.jpg");
            Directory.CreateDirectory(paths.Incoming(id));
            Directory.CreateDirectory(paths.ClassFolder(id, "happy"));
            await File.WriteAllBytesAsync(spool, new byte[1000]);
            await File.WriteAllBytesAsync(stray, new byte[1000]);

            await using (var beside = await AppStorage.OpenAsync(data.Path, CancellationToken.None))
            {
                Assert.StartsWith($"the web app, process {Environment.ProcessId}", beside.Owner, StringComparison.Ordinal);
                await Assert.ThrowsAsync<InvalidOperationException>(() => beside.Get<StorageReconciler>().ReconcileAsync());
            }
            Assert.True(File.Exists(spool));
            Assert.True(File.Exists(stray));
        }

        await using var owner = await AppStorage.OpenAsync(data.Path, CancellationToken.None);
        Assert.Null(owner.Owner);
        Assert.False(File.Exists(spool));
        Assert.False(File.Exists(stray));
        Assert.Single(Directory.EnumerateFiles(Path.Combine(data.Path, "lost+found"), "committing.jpg", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task TheAppStartsBesideALongCommandWithoutTidyingAndOwnsTheDirectoryOnceTheCommandEnds()
    {
        using var data = new TempDirectory();
        var command = await AppStorage.OpenAsync(data.Path, CancellationToken.None);
        Assert.Null(command.Owner);
        var spool = Path.Combine(data.Path, "datasets", "1", ".incoming", "import.tmp");
        Directory.CreateDirectory(Path.GetDirectoryName(spool)!);
        await File.WriteAllBytesAsync(spool, new byte[100]);

        using var app = new HappySadAppFactory(dataDirectory: data.Path);
        var directoryLock = app.Service<DataDirectoryLock>();
        Assert.False(directoryLock.IsHeld);
        Assert.True(File.Exists(spool));

        await command.DisposeAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!directoryLock.IsHeld && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.True(directoryLock.IsHeld, "the app took the directory over once the command let go");
        // Taking over mid-life tidies nothing: the app may be writing there by then.
        Assert.True(File.Exists(spool));
        // And a command started now works beside the app.
        await using var next = await AppStorage.OpenAsync(data.Path, CancellationToken.None);
        Assert.StartsWith("the web app", next.Owner, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCommandLineSaysInOneLineThatItWorksBesideTheRunningApp()
    {
        using var data = new TempDirectory();
        using var photos = SharedPhotos.Subset(perClass: 2);
        using var app = new HappySadAppFactory(dataDirectory: data.Path);
        _ = app.Services;
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await CliApp.RunAsync(["import", "--data", photos.Path, "--name", "beside", "--data-dir", data.Path], output, error);

        Assert.True(code == 0, error.ToString());
        Assert.Contains($"The app at {data.Path} is running (the web app, process {Environment.ProcessId}", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("4 accepted", output.ToString(), StringComparison.Ordinal);
        await app.AssertFilesAndRowsAgreeAsync();
    }

    /// <summary>PostgreSQL web nodes that train on workers share one directory: the second starts, and leaves the tidying to the first.</summary>
    [Collection(PostgresServer.Name)]
    public sealed class OnPostgres(PostgresServer server)
    {
        static readonly Dictionary<string, string> OnWorkers = new() { ["Workers:Mode"] = "Hangfire" };

        [Fact]
        public async Task ASecondWebNodeStartsBesideTheOwnerWithoutTidying()
        {
            using var data = new TempDirectory();
            var database = server.CreateDatabase();
            using var first = new HappySadAppFactory(OnWorkers, dataDirectory: data.Path, database: database);
            var id = await first.CreateDataSetAsync();
            var paths = first.Service<StoragePaths>();
            var spool = Path.Combine(paths.Incoming(id), "upload.zip");
            Directory.CreateDirectory(paths.Incoming(id));
            await File.WriteAllBytesAsync(spool, new byte[1000]);

            using var second = new HappySadAppFactory(OnWorkers, dataDirectory: data.Path, database: database);
            using var client = second.CreateClient();

            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(new Uri($"/api/datasets/{id}", UriKind.Relative))).StatusCode);
            Assert.True(File.Exists(spool));
            Assert.False(second.Service<DataDirectoryLock>().IsHeld);
        }

        /// <summary>Without workers a web node trains runs itself, and at its start recovers every run left Running: a second one would take the first one's live runs for dead.</summary>
        [Fact]
        public async Task ASecondWebNodeThatWouldTrainRunsItselfRefusesToStart()
        {
            using var data = new TempDirectory();
            var database = server.CreateDatabase();
            using var first = new HappySadAppFactory(dataDirectory: data.Path, database: database);
            await first.CreateDataSetAsync();

            var log = new LogLines();
            using var factory = new HappySadAppFactory(dataDirectory: data.Path, database: database);
            using var second = factory.WithWebHostBuilder(b => b.ConfigureLogging(logging => logging.AddProvider(log)));
            Assert.NotNull(Record.Exception(() => second.Services));

            var refused = Assert.Single(log.Exceptions.OfType<DataDirectoryInUseException>());
            Assert.Contains("set Workers:Mode=Hangfire", refused.Message, StringComparison.Ordinal);
        }
    }
}
