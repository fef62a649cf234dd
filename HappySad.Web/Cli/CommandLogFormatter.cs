using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace HappySad.Web.Cli;

/// <summary>
/// How a command's log lines read on the console: the level and the message on one line, with an
/// exception's type and first line, never its stack trace (set <c>HAPPYSAD_DEBUG=1</c> for that).
/// </summary>
internal sealed class CommandLogFormatter() : ConsoleFormatter(Name)
{
    public new const string Name = "happysad-command";

    static readonly bool Debug = Environment.GetEnvironmentVariable("HAPPYSAD_DEBUG") == "1";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        var level = logEntry.LogLevel switch
        {
            LogLevel.Critical or LogLevel.Error => "error",
            LogLevel.Warning => "warning",
            _ => "info",
        };
        var exception = logEntry.Exception;
        var detail = exception is null ? "" : Debug ? $"\n{exception}" : $" ({exception.GetType().Name}: {exception.Message.ReplaceLineEndings(" ").Trim()})";
        textWriter.WriteLine($"{level}: {message.ReplaceLineEndings(" ")}{detail}");
    }
}
