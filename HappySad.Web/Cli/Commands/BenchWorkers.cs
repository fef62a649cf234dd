using System.Diagnostics;
using HappySad.Training.Data;
using HappySad.Training.Training;
using HappySad.Web.Data;
using HappySad.Web.DataSets;
using HappySad.Web.Runs;

namespace HappySad.Web.Cli.Commands;

/// <summary>
/// <c>bench --workers N --postgres CONNECTION --data DIR</c>: how fast N <c>worker</c> processes of this
/// executable drain a queue of short runs, queued through Hangfire on that (empty) database.
/// </summary>
internal static class BenchWorkers
{
    public static async Task<int> RunAsync(CliContext cli, string data, string postgres, int workers, int runs, int epochs)
    {
        var folder = ImageFolder.Open(data);
        using var shared = new TemporaryDirectory();
        // The bench's own storage and the workers it starts read the same settings, as nodes of one deployment do.
        var settings = new Dictionary<string, string>
        {
            ["StorageOptions__Provider"] = "Postgres",
            ["ConnectionStrings__HappySad"] = postgres,
            ["Workers__Mode"] = "Hangfire",
            ["Workers__QueuePollInterval"] = "00:00:01",
        };
        foreach (var (key, value) in settings)
            Environment.SetEnvironmentVariable(key, value);

        var storage = await cli.OpenStorageAsync(shared.Path);
        await using (storage)
        {
            var dataSets = storage.Get<DataSetService>();
            var dataSet = await dataSets.CreateAsync($"bench {DateTime.UtcNow:yyyyMMdd-HHmmss}", folder.ClassNames[0], folder.ClassNames[1], cli.CancellationToken);
            await storage.Get<PhotoImporter>().ImportFolderAsync(dataSet.Id, data, cancellationToken: cli.CancellationToken);
            var service = storage.Get<RunService>();
            var recipe = new RunRecipe { Epochs = epochs, BatchSize = 16, Seed = 7 };
            var ids = new List<int>();
            for (var i = 0; i < runs; i++)
                ids.Add((await service.LaunchAsync(dataSet.Id, recipe, cancellationToken: cli.CancellationToken)).Id);

            var clock = Stopwatch.StartNew();
            var processes = Enumerable.Range(1, workers).Select(i => StartWorker($"bench-{i}", shared.Path, settings)).ToList();
            try
            {
                IReadOnlyList<TrainingRun> finished;
                while (true)
                {
                    finished = [.. (await service.ListAsync(cli.CancellationToken)).Where(r => ids.Contains(r.Id))];
                    if (finished.All(r => !r.IsActive))
                        break;
                    cli.Progress.Report("Runs", finished.Count(r => !r.IsActive), runs);
                    await Task.Delay(250, cli.CancellationToken);
                }
                cli.Progress.Clear();
                var seconds = clock.Elapsed.TotalSeconds;
                var first = finished.Min(r => r.StartedAt!.Value);
                var last = finished.Max(r => r.FinishedAt!.Value);
                await cli.WriteJsonAsync(new WorkersBenchReport(
                    Workers: workers,
                    Runs: runs,
                    EpochsPerRun: epochs,
                    Images: folder.Files.Count,
                    Succeeded: finished.Count(r => r.Status == RunStatus.Succeeded),
                    Seconds: Math.Round(seconds, 1),
                    FirstStartSeconds: Math.Round((first - finished.Min(r => r.CreatedAt)).TotalSeconds, 1),
                    TrainingSeconds: Math.Round((last - first).TotalSeconds, 1),
                    RunsPerMinute: Math.Round(runs / (last - first).TotalMinutes, 2)));
                return finished.All(r => r.Status == RunStatus.Succeeded) ? 0 : 1;
            }
            finally
            {
                foreach (var process in processes)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                    process.Dispose();
                }
            }
        }
    }

    static Process StartWorker(string name, string dataDirectory, IReadOnlyDictionary<string, string> settings)
    {
        var start = ThisExecutable.StartInfo(["worker", "--name", name, "--data-dir", dataDirectory]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        foreach (var (key, value) in settings)
            start.Environment[key] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("happysad-bench-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

internal sealed record WorkersBenchReport(int Workers, int Runs, int EpochsPerRun, int Images, int Succeeded, double Seconds, double FirstStartSeconds, double TrainingSeconds, double RunsPerMinute);
