using System.Diagnostics;

namespace HappySad.Web.Cli.Commands;

/// <summary>Child processes of this executable (the bench's app, workers and measurements), started the way this one was.</summary>
internal static class ThisExecutable
{
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
