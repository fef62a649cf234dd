using System.Net.Http.Headers;
using HappySad.Web.Accounts;
using HappySad.Web.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Runs;
using HappySad.Web.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HappySad.Tests.Support;

/// <summary>The whole app in memory over a temporary data directory, deleted afterwards.</summary>
/// <remarks>
/// Pass <paramref name="dataDirectory"/> to reopen a data directory, as a restarted app does; the caller then owns it.
/// <paramref name="database"/> chooses where the rows live (SQLite in the data directory when null).
/// Its clients are signed in as <see cref="UserName"/>, an Admin (so also an Editor), with an API token
/// created the way a user's page creates one; <see cref="CreateClientAs"/> gives other roles.
/// </remarks>
internal sealed class HappySadAppFactory(IReadOnlyDictionary<string, string>? settings = null, string? dataDirectory = null, TestDatabase? database = null) : WebApplicationFactory<Program>
{
    readonly TempDirectory? _data = dataDirectory is null ? new() : null;

    public string DataDirectory => dataDirectory ?? _data!.Path;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("StorageOptions:DataDirectory", DataDirectory);
        foreach (var (key, value) in (database ?? TestDatabase.Sqlite).Settings.Concat(settings ?? new Dictionary<string, string>()))
            builder.UseSetting(key, value);
    }

    public const string UserName = "tester";

    readonly Lock _tokenLock = new();
    string? _token;

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>The API token of <see cref="UserName"/>, created on first use.</summary>
    public string Token
    {
        get
        {
            lock (_tokenLock)
                return _token ??= CreateUserTokenAsync(UserName, AppRoles.Admin).GetAwaiter().GetResult();
        }
    }

    /// <summary>A new user with <paramref name="role"/> and an API token of theirs.</summary>
    public async Task<string> CreateUserTokenAsync(string name, string role)
    {
        // A database some tests share (a PostgreSQL test class's) may have the user from an earlier app already.
        var users = Service<UserAdministration>();
        var user = (await users.ListAsync()).FirstOrDefault(u => u.Name == name) ?? await users.CreateAsync(name, role, "password of " + name);
        return await Service<ApiTokenService>().CreateAsync(user.Id, "tests");
    }

    /// <summary>
    /// A client that does not follow redirects, sending a new <paramref name="role"/> user's token,
    /// or anonymous when <paramref name="role"/> is null.
    /// </summary>
    public HttpClient CreateClientAs(string? role)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = role is null
            ? null
            : new AuthenticationHeaderValue("Bearer", CreateUserTokenAsync($"{role.ToLowerInvariant()}-{Guid.NewGuid():N}", role).GetAwaiter().GetResult());
        return client;
    }

    /// <summary>
    /// A client signed in with the session cookie as a new <paramref name="role"/> user, through the
    /// sign-in form (<see cref="SessionSignIn"/>), not following redirects: what the dashboard's pages
    /// and circuit take, since a token does not open them.
    /// </summary>
    public async Task<HttpClient> CreateSignedInClientAsync(string role)
    {
        var name = $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}";
        await Service<UserAdministration>().CreateAsync(name, role, "password of " + name);
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.Authorization = null;
        await SessionSignIn.SignInAsync(client, name, "password of " + name);
        return client;
    }

    protected override void ConfigureClient(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public async Task<int> CreateDataSetAsync(string name = "photos") =>
        (await Service<DataSetService>().CreateAsync(name)).Id;

    /// <summary>A data set holding the first <paramref name="perClass"/> shared photos of each class.</summary>
    public async Task<int> CreateDataSetFromSharedPhotosAsync(int perClass, string name = "photos")
    {
        var id = await CreateDataSetAsync(name);
        using var subset = SharedPhotos.Subset(perClass);
        await Service<PhotoImporter>().ImportFolderAsync(id, subset.Path);
        return id;
    }

    /// <summary>Waits (on the notifier, not by polling) until the run has finished one way or another, and returns its record.</summary>
    /// <summary>
    /// Waits until the run has ended. With <paramref name="resumes"/>, an interrupted run has not
    /// ended yet: this app's start-up recovery queues it again, and may not have done so by the time
    /// the run is first read.
    /// </summary>
    public async Task<TrainingRun> WaitForRunAsync(int runId, int timeoutSeconds = 180, bool resumes = false)
    {
        bool Ended(RunStatus status) => status is not (RunStatus.Queued or RunStatus.Running) && !(resumes && status == RunStatus.Interrupted);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = Service<RunEvents>().Subscribe(runId, new RunObserver(onStatus: m =>
        {
            if (Ended(m.Status))
                finished.TrySetResult();
            return Task.CompletedTask;
        }));
        var runs = Service<RunService>();
        if (!Ended((await runs.GetAsync(runId))!.Status))
            await finished.Task.WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));
        return (await runs.GetAsync(runId))!;
    }

    /// <summary>Every photo row has its file where the row says, and every photo file has a row.</summary>
    public async Task AssertFilesAndRowsAgreeAsync()
    {
        var paths = Service<StoragePaths>();
        await using var context = await Service<IDbContextFactory<HappySadDbContext>>().CreateDbContextAsync();
        var photos = await context.Photos.AsNoTracking().ToListAsync();
        var expected = photos.Select(paths.PhotoFile).Order(StringComparer.Ordinal).ToList();
        var actual = Directory.Exists(paths.DataSetsRoot)
            ? Directory.EnumerateFiles(paths.DataSetsRoot, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Where(f => !f.Contains("/.thumbs/", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).ToList()
            : [];
        // On a mismatch, say which rows lack their file (with what the row says) and which files lack a row.
        var rowsWithoutFiles = photos.Where(p => !actual.Contains(paths.PhotoFile(p)))
            .Select(p => $"{paths.PhotoFile(p)} (row {p.Id}: {p.OriginalName} as {p.ClassName}, added {p.AddedAt:O})");
        var filesWithoutRows = actual.Except(expected, StringComparer.Ordinal);
        Assert.True(expected.SequenceEqual(actual, StringComparer.Ordinal),
            $"rows without files: [{string.Join(", ", rowsWithoutFiles)}]; files without rows: [{string.Join(", ", filesWithoutRows)}]");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
            _data?.Dispose();
    }
}
