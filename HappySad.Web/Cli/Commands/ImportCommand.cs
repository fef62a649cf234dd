using HappySad.Training.Data;
using HappySad.Web.Extensions;
using HappySad.Web.Services;

namespace HappySad.Web.Cli.Commands;

/// <summary><c>import --data DIR --name NAME [--data-dir DIR]</c>: loads a class-folder data set into the app's storage.</summary>
internal static class ImportCommand
{
    public static async Task<int> RunAsync(CliContext cli, CliArguments args)
    {
        var source = args.Required("data");
        var name = args.Required("name");
        // Open the folder first: it checks for exactly two class folders and names them.
        var folder = ImageFolder.Open(source);

        var storage = await AppStorage.OpenAsync(args.Optional("data-dir"), cli.CancellationToken);
        await using (storage.ConfigureAwait(false))
        {
            var dataSets = storage.Get<DataSetService>();
            var existing = (await dataSets.ListAsync(cli.CancellationToken)).FirstOrDefault(d => d.Name == name);
            var dataSet = existing ?? await dataSets.CreateAsync(name, folder.ClassNames[0], folder.ClassNames[1], cli.CancellationToken);
            if (!dataSet.ClassNames.SequenceEqual(folder.ClassNames, StringComparer.OrdinalIgnoreCase))
                throw new DataSetException($"data set '{name}' has classes {string.Join(", ", dataSet.ClassNames)}, but {source} has {string.Join(", ", folder.ClassNames)}");

            var done = 0;
            var outcomes = await storage.Get<PhotoImporter>().ImportFolderAsync(dataSet.Id, source,
                new InlineProgress<UploadOutcome>(_ => cli.Progress.Report("Importing", ++done, folder.Files.Count)), cli.CancellationToken);
            cli.Progress.Clear();
            var report = new UploadReport(outcomes);

            if (args.Flag("json"))
            {
                await cli.WriteJsonAsync(new
                {
                    data_set_id = dataSet.Id,
                    name = dataSet.Name,
                    data_directory = storage.Get<StoragePaths>().Root,
                    accepted = report.Accepted,
                    rejected = report.Rejected,
                    duplicates = report.Duplicates,
                    files = outcomes.Where(o => o.Status != UploadStatus.Accepted).Select(o => new { name = o.Name, status = o.Status, @class = o.ClassName, reason = o.Reason }),
                });
                return 0;
            }
            var verb = existing is null ? "Created" : "Added to";
            await cli.Output.WriteLineAsync($"{verb} data set '{dataSet.Name}' (id {dataSet.Id}) in {storage.Get<StoragePaths>().Root}: {report.Accepted} accepted, {report.Rejected} rejected, {report.Duplicates} duplicates");
            foreach (var outcome in outcomes.Where(o => o.Status != UploadStatus.Accepted))
                await cli.Output.WriteLineAsync($"  {outcome.Status.ToString().ToLowerInvariant()} {outcome.ClassName}/{outcome.Name}: {outcome.Reason}");
            return 0;
        }
    }
}
