using System.CommandLine;
using HappySad.Training.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Storage;

namespace HappySad.Web.Cli.Commands;

/// <summary><c>import --data DIR --name NAME [--data-dir DIR]</c>: loads a class-folder data set into the app's storage.</summary>
internal static class ImportCommand
{
    public static Command Create(CliContext cli)
    {
        var data = CliOptions.Data();
        var name = new Option<string>("--name") { Description = "The dashboard data set to create, or to add to when it exists.", HelpName = "NAME", Required = true };
        var dataDirectory = CliOptions.DataDirectory("The dashboard's data directory (default: the app's, ./data).");
        var json = CliOptions.Json();
        var command = new Command("import", "Copy a class-folder data set into the dashboard's storage, by the same rules as a browser upload.") { data, name, dataDirectory, json };
        command.SetAction((parse, _) => RunAsync(cli.ForJson(parse.GetValue(json)), parse.GetRequiredValue(data), parse.GetRequiredValue(name), parse.GetValue(dataDirectory), parse.GetValue(json)));
        return command;
    }

    static async Task<int> RunAsync(CliContext cli, string source, string name, string? dataDirectory, bool json)
    {
        // Open the folder first: it checks for exactly two class folders and names them.
        var folder = ImageFolder.Open(source);

        var storage = await cli.OpenStorageAsync(dataDirectory);
        await using (storage)
        {
            var dataSets = storage.Get<DataSetService>();
            // Found as it would be stored: a data set's name is kept trimmed.
            var existing = (await dataSets.ListAsync(cli.CancellationToken)).FirstOrDefault(d => d.Name == name.Trim());
            var dataSet = existing ?? await dataSets.CreateAsync(name, folder.ClassNames[0], folder.ClassNames[1], cli.CancellationToken);
            if (!new HashSet<string>(folder.ClassNames, ClassNames.Comparer).SetEquals(dataSet.ClassNames))
                throw new DataSetException($"data set '{name}' has classes {string.Join(", ", dataSet.ClassNames)}, but {source} has {string.Join(", ", folder.ClassNames)}");

            var done = 0;
            var outcomes = await storage.Get<PhotoImporter>().ImportFolderAsync(dataSet.Id, source,
                new InlineProgress<UploadOutcome>(_ => cli.Progress.Report("Importing", ++done, folder.Files.Count)), cli.CancellationToken);
            cli.Progress.Clear();
            var report = new UploadReport(outcomes);
            var root = storage.Get<StoragePaths>().Root;

            if (json)
            {
                await cli.WriteJsonAsync(new ImportReport(dataSet.Id, dataSet.Name, root, report.Accepted, report.Rejected, report.Duplicates,
                    [.. outcomes.Where(o => o.Status != UploadStatus.Accepted).Select(o => new ImportedFile(o.Name, o.Status, o.ClassName, o.Reason))]));
                return 0;
            }
            var verb = existing is null ? "Created" : "Added to";
            await cli.Output.WriteLineAsync($"{verb} data set '{dataSet.Name}' (id {dataSet.Id}) in {root}: {report.Accepted} accepted, {report.Rejected} rejected, {report.Duplicates} duplicates");
            foreach (var outcome in outcomes.Where(o => o.Status != UploadStatus.Accepted))
                await cli.Output.WriteLineAsync($"  {outcome.Status.ToString().ToLowerInvariant()} {outcome.ClassName}/{outcome.Name}: {outcome.Reason}");
            return 0;
        }
    }
}
