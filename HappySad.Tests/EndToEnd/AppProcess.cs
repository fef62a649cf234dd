using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using HappySad.Tests.Support;

namespace HappySad.Tests.EndToEnd;

/// <summary>
/// The real app, as <c>dotnet HappySad.Web.dll</c> in its own process, on a free loopback port
/// (port 0; the address is read from its start-up log) with a temporary data directory.
/// </summary>
internal sealed partial class AppProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly TempDirectory _data = new();
    readonly StringBuilder _log = new();

    AppProcess(Process process) => _process = process;

    public Uri BaseAddress { get; private set; } = default!;
    public string DataDirectory => _data.Path;
    public string Log { get { lock (_log) return _log.ToString(); } }

    public static async Task<AppProcess> StartAsync()
    {
        var dll = WebAssemblyPath();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        var app = new AppProcess(new Process { StartInfo = start });
        foreach (var argument in (string[])[dll, "--urls", "http://127.0.0.1:0", "--data-dir", app._data.Path])
            start.ArgumentList.Add(argument);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

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
