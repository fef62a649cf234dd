using HappySad.Tests.EndToEnd;
using HappySad.Tests.Support;

namespace HappySad.Tests.Web.Storage;

/// <summary>The lock between real processes: the app, a command beside it, a second app, and what a kill -9 leaves.</summary>
public sealed class DataDirectoryLockProcessTests
{
    static readonly Dictionary<string, string> NoSettings = [];

    [Fact]
    public async Task ImportBesideARunningAppMovesNoneOfItsFilesAndTidiesOnceTheAppIsKilled()
    {
        using var photos = SharedPhotos.Subset(perClass: 2);
        await using var app = await AppProcess.StartAsync();
        var data = app.DataDirectory;

        var first = await AppProcess.RunCommandAsync(["import", "--data", photos.Path, "--name", "photos", "--data-dir", data], NoSettings);
        Assert.Contains($"The app at {data} is running (the web app, process ", first, StringComparison.Ordinal);
        Assert.Contains("4 accepted", first, StringComparison.Ordinal);

        // What the app has on disk mid-upload: a zip spooled in .incoming, a photo in its class folder whose row is about to commit.
        var spool = Path.Combine(data, "datasets", "1", ".incoming", "upload.zip");
        var committing = Path.Combine(data, "datasets", "1", "happy", "committing.jpg");
        Directory.CreateDirectory(Path.GetDirectoryName(spool)!);
        await File.WriteAllBytesAsync(spool, new byte[10_000]);
        await File.WriteAllBytesAsync(committing, new byte[1_000]);

        var beside = await AppProcess.RunCommandAsync(["import", "--data", photos.Path, "--name", "photos", "--data-dir", data], NoSettings);
        Assert.Contains("is running", beside, StringComparison.Ordinal);
        Assert.Contains("4 duplicates", beside, StringComparison.Ordinal);
        Assert.True(File.Exists(spool), beside);
        Assert.True(File.Exists(committing), beside);
        Assert.False(Directory.Exists(Path.Combine(data, "lost+found")), beside);

        // A kill -9 runs no shutdown code: the kernel alone releases the lock.
        await app.KillAsync();
        var after = await AppProcess.RunCommandAsync(["import", "--data", photos.Path, "--name", "photos", "--data-dir", data], NoSettings);

        Assert.DoesNotContain("is running", after, StringComparison.Ordinal);
        Assert.Contains("Start-up clean-up deleted 1 leftovers, 10,000 bytes: 1 spooled uploads", after, StringComparison.Ordinal);
        Assert.False(File.Exists(spool), after);
        Assert.False(File.Exists(committing), after);
        Assert.Single(Directory.EnumerateFiles(Path.Combine(data, "lost+found"), "committing.jpg", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ASecondAppOnTheSameSqliteDirectoryExitsWithOneClearLine()
    {
        await using var app = await AppProcess.StartAsync();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => AppProcess.StartAsync(withAdmin: false, dataDirectory: app.DataDirectory));

        Assert.Contains($"The data directory {app.DataDirectory} is in use by the web app, process ", refused.Message, StringComparison.Ordinal);
        Assert.False(app.HasExited);
    }
}
