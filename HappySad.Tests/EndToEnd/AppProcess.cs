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
    readonly TempDirectory _data = new();
    readonly StringBuilder _log = new();

    AppProcess(Process process) => _process = process;

    public const string UserName = "e2e-admin";
    public const string Password = "correct horse battery";

    public Uri BaseAddress { get; private set; } = default!;
    public string DataDirectory => _data.Path;
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <param name="withAdmin">False for a first start: no users, so the app prints its setup link.</param>
    public static async Task<AppProcess> StartAsync(bool withAdmin = true)
    {
        var dll = WebAssemblyPath();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        var app = new AppProcess(new Process { StartInfo = start });
        foreach (var argument in (string[])[dll, "--urls", "http://127.0.0.1:0", "--data-dir", app._data.Path])
            start.ArgumentList.Add(argument);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        if (withAdmin)
            await AddUserAsync(dll, app._data.Path, UserName, "Admin", Password);

        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
                return;
            lock (app._log)
                app._log.AppendLine(line);
            if (ListeningLine().Match(line) is { Success: true } match)
                listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
        app._process.OutputDataReceived += (_, e) => OnLine(e.Data);
        app._process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        app._process.Start();
        app._process.BeginOutputReadLine();
        app._process.BeginErrorReadLine();

        var exited = app._process.WaitForExitAsync();
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != listening.Task)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"the app did not start listening:\n{app.Log}");
        }
        app.BaseAddress = await listening.Task;
        return app;
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
    public static async Task AddUserAsync(string dll, string dataDirectory, string name, string role, string password)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var argument in (string[])[dll, "users", "add", "--name", name, "--role", role, "--password-stdin", "--data-dir", dataDirectory])
            start.ArgumentList.Add(argument);
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
        await page.WaitForURLAsync(BaseAddress.ToString());
    }

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

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _data.Dispose();
    }
}
