using System.CommandLine;
using HappySad.Training.Data;

namespace HappySad.Web.Cli.Commands;

internal static class ScanCommand
{
    public static Command Create(CliContext cli)
    {
        var data = CliOptions.Data();
        var quarantine = new Option<string?>("--quarantine") { Description = "Move the files that cannot be used to DIR/<class>/ (nothing is ever deleted).", HelpName = "DIR" };
        var json = CliOptions.Json();
        var command = new Command("scan", "List the files of a data set that cannot be used, and why.") { data, quarantine, json };
        command.SetAction((parse, _) => RunAsync(cli.ForJson(parse.GetValue(json)), parse.GetRequiredValue(data), parse.GetValue(quarantine), parse.GetValue(json)));
        return command;
    }

    static async Task<int> RunAsync(CliContext cli, string data, string? quarantine, bool json)
    {
        var folder = ImageFolder.Open(data);
        // Inside the data folder, a quarantined file would stay in the data set (or join the other class).
        if (quarantine is not null && (Path.GetFullPath(quarantine).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar)
                .StartsWith(Path.GetFullPath(folder.Root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new UsageException($"--quarantine '{quarantine}' is inside the data folder; choose a folder outside it");
        var report = DataScanner.Scan(folder, progress: new InlineProgress<int>(n => cli.Progress.Report("Scanning", n, folder.Files.Count)), cancellationToken: cli.CancellationToken);
        cli.Progress.Clear();
        IReadOnlyList<(string From, string To)> moves = [];
        QuarantineException? stopped = null;
        try
        {
            moves = quarantine is not null ? DataScanner.Quarantine(report.Rejected, quarantine) : [];
        }
        catch (QuarantineException e)
        {
            // The report still says where every file it moved went; the error line says where it stopped.
            (moves, stopped) = (e.Moved, e);
        }
        var movedTo = moves.ToDictionary(m => m.From, m => m.To);

        if (json)
        {
            await cli.WriteJsonAsync(new ScanJsonReport(
                report.ClassNames,
                report.Files,
                report.Usable,
                [.. report.Rejected.Select(r => new ScanRejected(r.Path, r.ClassName, r.Kind, r.Reason, movedTo.GetValueOrDefault(r.Path)))],
                [.. report.Mislabeled.Select(m => new ScanMislabeled(m.Path, m.Reason))]));
            return await StoppedAsync(cli, stopped, moves.Count, report.Rejected.Count);
        }
        cli.Output.WriteLine($"{report.Files} files: {report.Usable} usable, {report.Rejected.Count} rejected, {report.Mislabeled.Count} with a misleading extension (kept)");
        foreach (var r in report.Rejected)
            cli.Output.WriteLine($"  rejected {r.Path}: {r.Reason}" + (movedTo.TryGetValue(r.Path, out var to) ? $" -> moved to {to}" : string.Empty));
        foreach (var m in report.Mislabeled)
            cli.Output.WriteLine($"  note {m.Path}: {m.Reason}");
        if (report.Rejected.Count > 0 && quarantine is null)
            cli.Output.WriteLine("Nothing was moved; add --quarantine DIR to move rejected files out of the data set.");
        return await StoppedAsync(cli, stopped, moves.Count, report.Rejected.Count);
    }

    /// <summary>A quarantine that stopped part way is an error (exit 1), after the report of what it moved.</summary>
    static async Task<int> StoppedAsync(CliContext cli, QuarantineException? stopped, int moved, int rejected)
    {
        if (stopped is null)
            return 0;
        await cli.Error.WriteLineAsync($"error: {stopped.Message.ReplaceLineEndings(" ")}; moved {moved} of {rejected} rejected files before it");
        return 1;
    }
}
