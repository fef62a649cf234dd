using HappySad.Training.Data;

namespace HappySad.Web.Cli.Commands;

internal static class ScanCommand
{
    public static async Task<int> RunAsync(CliContext cli, CliArguments args)
    {
        var json = args.Flag("json");
        var folder = ImageFolder.Open(args.Required("data"));
        var report = DataScanner.Scan(folder, progress: new InlineProgress<int>(n => cli.Progress.Report("Scanning", n, folder.Files.Count)), cancellationToken: cli.CancellationToken);
        cli.Progress.Clear();
        var moves = args.Optional("quarantine") is { } quarantine ? DataScanner.Quarantine(report.Rejected, quarantine) : [];
        var movedTo = moves.ToDictionary(m => m.From, m => m.To);

        if (json)
        {
            await cli.WriteJsonAsync(new
            {
                classes = report.ClassNames,
                files = report.Files,
                usable = report.Usable,
                rejected = report.Rejected.Select(r => new { path = r.Path, @class = r.ClassName, kind = r.Kind, reason = r.Reason, moved_to = movedTo.GetValueOrDefault(r.Path) }),
                mislabeled = report.Mislabeled.Select(m => new { path = m.Path, reason = m.Reason }),
            });
            return 0;
        }
        cli.Output.WriteLine($"{report.Files} files: {report.Usable} usable, {report.Rejected.Count} rejected, {report.Mislabeled.Count} with a misleading extension (kept)");
        foreach (var r in report.Rejected)
            cli.Output.WriteLine($"  rejected {r.Path}: {r.Reason}" + (movedTo.TryGetValue(r.Path, out var to) ? $" -> moved to {to}" : string.Empty));
        foreach (var m in report.Mislabeled)
            cli.Output.WriteLine($"  note {m.Path}: {m.Reason}");
        if (report.Rejected.Count > 0 && moves.Count == 0)
            cli.Output.WriteLine("Nothing was moved; add --quarantine DIR to move rejected files out of the data set.");
        return 0;
    }
}
