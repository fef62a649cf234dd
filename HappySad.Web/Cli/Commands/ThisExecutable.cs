using System.Diagnostics;

namespace HappySad.Web.Cli.Commands;

/// <summary>Child processes of this executable (the bench's app, workers and measurements), started the way this one was.</summary>
internal static class ThisExecutable
{
    /// <summary>
    /// Settings for a throwaway data directory a bench makes (its app, its set-up): an SQLite database
    /// of its own and runs trained in process, whatever the shell's environment says. Without them,
    /// <c>StorageOptions__Provider=Postgres</c> left exported would point a bench's empty folder at the
    /// real database, and its tidying at start would take every photo row for lost.
    /// </summary>
    public static readonly IReadOnlyList<string> OwnStorage = ["--StorageOptions:Provider=Sqlite", "--Workers:Mode=InProcess"];

    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!);
        // Under "dotnet HappySad.Web.dll" the process is dotnet and the entry assembly its first argument.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(typeof(ThisExecutable).Assembly.Location);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        return start;
    }
}
