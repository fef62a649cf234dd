using System.Diagnostics;
using System.Globalization;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Training;

namespace HappySad.Web.Cli.Commands;

/// <summary>
/// Training from the pixel cache at a data set's size, as a run trains: the cache built (or reused),
/// then the notebook network trained for a fixed number of batches. Run on the seed photos and on a
/// large set in one process, the two can be compared: throughput and peak memory should not depend
/// on the number of photos.
/// </summary>
internal static class BenchTraining
{
    /// <summary>Batches not counted in the steady rate: the first ones pay for warming up allocators and kernels.</summary>
    const int WarmUpBatches = 8;

    public static async Task<StreamingTrainingReport> MeasureAsync(CliContext cli, string folder, string cacheDirectory, int batches)
    {
        TorchRuntime.EnsureInitialized();
        var device = TorchDevices.Resolve(DevicePreference.Auto);
        var data = ImageFolder.Open(folder);
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));

        PeakMemory.Reset();
        var clock = Stopwatch.StartNew();
        var load = PixelCache.Load(data.Files, data.ClassNames, ImagePreparation.Notebook, cacheDirectory,
            progress: new InlineProgress<int>(n => cli.Progress.Report($"Caching {name}", n, data.Files.Count)), cancellationToken: cli.CancellationToken);
        cli.Progress.Clear();
        var cacheSeconds = clock.Elapsed.TotalSeconds;
        var cachePeak = PeakMemory.Megabytes();
        var built = !load.Cache!.Reused;
        clock.Restart();
        load = PixelCache.Load(data.Files, data.ClassNames, ImagePreparation.Notebook, cacheDirectory, cancellationToken: cli.CancellationToken);
        var reuseSeconds = clock.Elapsed.TotalSeconds;

        var train = load.Images.Subset(new RunRecipe().Split(load.Images).Train);
        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 1);
        var options = new FitOptions { Epochs = 1000, BatchSize = 32 };
        var batchesPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        var ends = new List<(double Seconds, int Images)>();
        using var enough = CancellationTokenSource.CreateLinkedTokenSource(cli.CancellationToken);
        var timer = new Stopwatch();
        var callback = new LambdaCallback(onBatchEnd: progress =>
        {
            var images = progress.Batch < progress.BatchesPerEpoch ? options.BatchSize : train.Count - ((progress.BatchesPerEpoch - 1) * options.BatchSize);
            ends.Add((timer.Elapsed.TotalSeconds, images));
            cli.Progress.Report($"Training on {name}", ends.Count, batches);
            if (ends.Count >= batches)
                enough.Cancel();
        });

        GC.Collect();
        PeakMemory.Reset();
        timer.Start();
        try
        {
            await new Trainer(device).FitAsync(model, train, null, options, [callback], cancellationToken: enough.Token);
        }
        catch (OperationCanceledException) when (!cli.CancellationToken.IsCancellationRequested)
        {
            // The batches asked for are done.
        }
        cli.Progress.Clear();
        var trainingPeak = PeakMemory.Megabytes();

        static double Rate(IEnumerable<(double Seconds, int Images)> window, double start)
        {
            var list = window.ToList();
            return list.Count == 0 ? 0 : Math.Round(list.Sum(b => b.Images) / (list[^1].Seconds - start), 1);
        }
        var firstEpoch = ends.Take(Math.Min(batchesPerEpoch, ends.Count)).ToList();
        var steady = ends.Skip(WarmUpBatches).ToList();
        return new StreamingTrainingReport(
            Folder: folder,
            Photos: data.Files.Count,
            Images: load.Images.Count,
            TrainImages: train.Count,
            CacheBytes: new FileInfo(load.Cache!.Path).Length,
            CacheBuildPhotosPerSecond: !built ? null : Math.Round(data.Files.Count / cacheSeconds, 1),
            CacheBuildSeconds: Math.Round(cacheSeconds, 2),
            CacheBuildPeakWorkingSetMb: cachePeak,
            CacheReuseSeconds: Math.Round(reuseSeconds, 2),
            BatchesTimed: ends.Count,
            FirstEpochBatchesTimed: firstEpoch.Count,
            FirstEpochImagesPerSecond: Rate(firstEpoch, 0),
            SteadyImagesPerSecond: Rate(steady, WarmUpBatches > 0 && ends.Count > WarmUpBatches ? ends[WarmUpBatches - 1].Seconds : 0),
            TrainingPeakWorkingSetMb: trainingPeak);
    }
}

/// <summary>The highest resident memory of this process since the last reset (Linux: VmHWM, reset through clear_refs).</summary>
internal static class PeakMemory
{
    public static void Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux: the peak below is then the process's whole life.
        }
    }

    /// <summary>This process's peak; where there is no <c>/proc</c>, the whole life's peak working set.</summary>
    public static double Megabytes() =>
        Of("self") ?? Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0), 0);

    /// <summary>The peak of process <paramref name="process"/> (an id, or <c>self</c>) in MB; null where <c>/proc</c> does not say.</summary>
    public static double? Of(string process)
    {
        var status = $"/proc/{process}/status";
        if (!File.Exists(status))
            return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is not null && long.TryParse(line["VmHWM:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kilobytes)
            ? Math.Round(kilobytes / 1024.0, 0)
            : null;
    }
}

/// <summary>What <see cref="BenchTraining"/> measured on one folder.</summary>
internal sealed record StreamingTrainingReport(
    string Folder,
    int Photos,
    int Images,
    int TrainImages,
    long CacheBytes,
    double? CacheBuildPhotosPerSecond,
    double CacheBuildSeconds,
    double CacheBuildPeakWorkingSetMb,
    double CacheReuseSeconds,
    int BatchesTimed,
    int FirstEpochBatchesTimed,
    double FirstEpochImagesPerSecond,
    double SteadyImagesPerSecond,
    double TrainingPeakWorkingSetMb);

/// <summary><c>bench --streaming</c>: the seed photos and a large set trained the same way, and their ratios (1.0: no difference).</summary>
internal sealed record StreamingBenchReport(StreamingTrainingReport Small, StreamingTrainingReport Large, double SteadyThroughputRatio, double TrainingPeakWorkingSetRatio);
