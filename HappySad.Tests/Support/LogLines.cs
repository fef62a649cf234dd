using Microsoft.Extensions.Logging;

namespace HappySad.Tests.Support;

/// <summary>Every log line an app writes, as text with its exception, for tests that check what a person reading the log is told.</summary>
internal sealed class LogLines : ILoggerProvider, ILogger
{
    readonly List<(string Message, Exception? Exception)> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return [.. _lines.Select(l => l.Message)]; }
    }

    public IReadOnlyList<Exception> Exceptions
    {
        get { lock (_lines) return [.. _lines.Select(l => l.Exception).OfType<Exception>()]; }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (_lines)
            _lines.Add((formatter(state, exception), exception));
    }

    public void Dispose()
    {
    }
}
