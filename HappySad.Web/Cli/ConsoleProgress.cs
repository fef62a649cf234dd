using System.Diagnostics;

namespace HappySad.Web.Cli;

/// <summary>
/// A one-line progress bar on standard error, redrawn in place at most ten times a second. When
/// standard error is not a terminal (CI logs, pipes) or output is JSON, it draws nothing: the
/// per-epoch lines on standard output are the record.
/// </summary>
internal sealed class ConsoleProgress(TextWriter error, bool enabled)
{
    const int Width = 30;
    readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    readonly Lock _gate = new();
    bool _drawn;

    public static ConsoleProgress For(TextWriter error, bool json) => new(error, !json && !Console.IsErrorRedirected);

    public void Report(string label, long done, long total, string? suffix = null)
    {
        if (!enabled)
            return;
        lock (_gate)
        {
            if (done < total && _sinceDraw.ElapsedMilliseconds < 100)
                return;
            _sinceDraw.Restart();
            var filled = total == 0 ? Width : (int)(Width * done / total);
            error.Write($"\r{label} [{new string('#', filled)}{new string('-', Width - filled)}] {done}/{total} {suffix}".PadRight(Console.IsErrorRedirected ? 0 : Math.Max(0, Console.WindowWidth - 1)));
            _drawn = true;
        }
    }

    /// <summary>Clears the bar so the next line starts clean.</summary>
    public void Clear()
    {
        if (!enabled)
            return;
        lock (_gate)
        {
            if (_drawn)
                error.Write("\r" + new string(' ', Math.Max(0, Console.WindowWidth - 1)) + "\r");
            _drawn = false;
        }
    }
}
