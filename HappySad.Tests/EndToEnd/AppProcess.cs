using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using HappySad.Tests.Support;
using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>
/// The real app, as <c>dotnet HappySad.Web.dll</c> in its own process, on a free loopback port
/// (port 0; the address is read from its start-up log) with a temporary data directory. Unless told
/// otherwise it has an Admin, <see cref="UserName"/>, created beforehand with the <c>users add</c>
/// verb, whom <see cref="SignInAsync"/> signs in through the real sign-in page.
/// </summary>
internal sealed partial class AppProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly TempDirectory? _data;
    readonly StringBuilder _log = new();

    AppProcess(Process process, string? dataDirectory)
    {
        _process = process;
        _data = dataDirectory is null ? new() : null;
        DataDirectory = dataDirectory ?? _data!.Path;
    }

    public const string UserName = "e2e-admin";
    public const string Password = "correct horse battery";

    public Uri BaseAddress { get; private set; } = default!;
    public string DataDirectory { get; }
    public string Log { get { lock (_log) return _log.ToString(); } }
    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The web app. <paramref name="dataDirectory"/> is shared with other processes and left in place;
    /// null for a temporary one of its own. <paramref name="withAdmin"/> false for a first start: no
    /// users, so the app prints its setup link.
    /// </summary>
    public static Task<AppProcess> StartAsync(bool withAdmin = true, IReadOnlyDictionary<string, string>? environment = null, string? dataDirectory = null) =>
        StartAsync([], environment, dataDirectory, ListeningLine(), "start listening", withAdmin);

    /// <summary>A training worker (<c>worker --name</c>) over the shared <paramref name="dataDirectory"/>, ready once it says it takes runs.</summary>
    public static Task<AppProcess> StartWorkerAsync(string name, string dataDirectory, IReadOnlyDictionary<string, string> environment) =>
        StartAsync(["worker", "--name", name], environment, dataDirectory, WorkerReadyLine(), "start taking runs", withAdmin: false);

    static async Task<AppProcess> StartAsync(string[] command, IReadOnlyDictionary<string, string>? environment, string? dataDirectory, Regex ready, string what, bool withAdmin)
    {
        var dll = WebAssemblyPath();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        var app = new AppProcess(new Process { StartInfo = start }, dataDirectory);
        string[] server = command.Length == 0 ? ["--urls", "http://127.0.0.1:0"] : [];
        foreach (var argument in (string[])[dll, .. command, .. server, "--data-dir", app.DataDirectory])
            start.ArgumentList.Add(argument);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        if (withAdmin)
            await AddUserAsync(dll, app.DataDirectory, UserName, "Admin", Password, environment);

        var started = new TaskCompletionSource<Uri?>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
                return;
            lock (app._log)
                app._log.AppendLine(line);
            if (ready.Match(line) is { Success: true } match)
                started.TrySetResult(match.Groups.Count > 1 && match.Groups[1].Success ? new Uri(match.Groups[1].Value) : null);
        }
        app._process.OutputDataReceived += (_, e) => OnLine(e.Data);
        app._process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        app._process.Start();
        app._process.BeginOutputReadLine();
        app._process.BeginErrorReadLine();

        var exited = app._process.WaitForExitAsync();
        var first = await Task.WhenAny(started.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != started.Task)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"the {(command.Length == 0 ? "app" : command[0])} did not {what}:\n{app.Log}");
        }
        app.BaseAddress = await started.Task ?? new Uri("http://worker.invalid/");
        return app;
    }

    /// <summary>A command of the executable (<c>import</c>, ...) in its own process, to its end; throws with its output when it fails.</summary>
    public static async Task<string> RunCommandAsync(string[] command, IReadOnlyDictionary<string, string> environment)
    {
        var dll = WebAssemblyPath();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var argument in (string[])[dll, .. command])
            start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var log = await output + await error;
        return process.ExitCode == 0 ? log : throw new InvalidOperationException($"{string.Join(' ', command)} exited with {process.ExitCode}:\n{log}");
    }

    /// <summary>Ends the process at once, as a crash or a power cut would: SIGKILL, no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Stops the process where it is (SIGSTOP), as a long pause, a swapped-out machine or a frozen VM would.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>Lets a paused process go on (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-s", signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill -s {signal} {_process.Id} exited with {kill.ExitCode}");
    }

    /// <summary>The first group of the first log line that matches, waiting for it as long as the app runs.</summary>
    public async Task<string> WaitForLogAsync(Regex line, int timeoutSeconds = 60)
    {
        ArgumentNullException.ThrowIfNull(line);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!line.IsMatch(Log))
        {
            if (_process.HasExited || !await tick.WaitForNextTickAsync(timeout.Token))
                throw new InvalidOperationException($"no log line matched {line}:\n{Log}");
        }
        return line.Match(Log).Groups[1].Value;
    }

    /// <summary>Runs <c>users add --password-stdin</c> as a script would.</summary>
    public static async Task AddUserAsync(string dll, string dataDirectory, string name, string role, string password, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var argument in (string[])[dll, "users", "add", "--name", name, "--role", role, "--password-stdin", "--data-dir", dataDirectory])
            start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteLineAsync(password);
        process.StandardInput.Close();
        var (output, error) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"users add exited with {process.ExitCode}: {await output}{await error}");
    }

    /// <summary>Adds a user to this app's data directory (the app reads it on the next sign-in).</summary>
    public Task AddUserAsync(string name, string role, string password) => AddUserAsync(WebAssemblyPath(), DataDirectory, name, role, password);

    /// <summary>Signs in through the sign-in page, as a person would, and waits for the dashboard.</summary>
    public async Task SignInAsync(IPage page, string name = UserName, string password = Password)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.GotoAsync(new Uri(BaseAddress, "account/signin").ToString());
        await page.GetByTestId("signin-name").FillAsync(name);
        await page.GetByTestId("signin-password").FillAsync(password);
        await page.GetByTestId("signin-submit").ClickAsync();
        // The dashboard named for the user, not the page's load event: the first page an app serves after it
        // starts can take longer than Playwright's 30 s to fire "load" while the suite's other apps start too.
        await Assertions.Expect(page).ToHaveURLAsync(BaseAddress.ToString(), new() { Timeout = SignInTimeoutMs });
        await Assertions.Expect(page.GetByTestId("account-link")).ToHaveTextAsync(name, new() { Timeout = SignInTimeoutMs });
    }

    const float SignInTimeoutMs = 90_000;

    /// <summary>A page of its own browser context, signed in as <see cref="UserName"/>.</summary>
    public async Task<IPage> NewSignedInPageAsync(IBrowser browser, BrowserNewPageOptions options)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var page = await browser.NewPageAsync(options);
        await SignInAsync(page);
        return page;
    }

    /// <summary>HappySad.Web's build output, next to this test project's (same configuration).</summary>
    static string WebAssemblyPath()
    {
        var testOutput = AppContext.BaseDirectory.TrimEnd('/');
        var dll = testOutput.Replace("/HappySad.Tests/bin/", "/HappySad.Web/bin/", StringComparison.Ordinal) + "/HappySad.Web.dll";
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build HappySad.Web first: {dll} is missing");
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"^Worker \S+ trains queued runs")]
    private static partial Regex WorkerReadyLine();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _data?.Dispose();
    }
}
