using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Native;
using HappySad.Training.Training;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Data;

/// <summary>
/// The on-disk pixel cache and the prefetching loader that trains from it: the same bytes in the same
/// order as photos decoded into memory, a cache reused only when it is whole and is the one asked for.
/// </summary>
public sealed class PixelCacheTests : IDisposable
{
    /// <summary>Small enough to decode quickly, large enough that batch edges and micro-batches are exercised.</summary>
    static readonly ImagePreparation Small = new(48);

    readonly TempDirectory _cache = new();
    readonly IReadOnlyList<LabeledFile> _files;
    readonly IReadOnlyList<string> _classNames;

    public PixelCacheTests()
    {
        var folder = ImageFolder.Open(SharedPhotos.Root);
        _classNames = folder.ClassNames;
        // Every 12th photo of each class, plus a file that is not an image, so a refusal is cached too.
        _files = [.. folder.Files.Where((_, i) => i % 12 == 0), new LabeledFile(HostileText(), 1)];
    }

    public void Dispose() => _cache.Dispose();

    string HostileText()
    {
        var path = _cache.File("inputs/sad/notes.jpg");
        File.WriteAllText(path, "not a photo at all");
        return path;
    }

    string CacheDirectory => Path.Combine(_cache.Path, "pixels");

    ImageFolderLoad InMemory() => ImageFiles.Load(_files, _classNames, Small);

    ImageFolderLoad Cached(IProgress<int>? progress = null) => PixelCache.Load(_files, _classNames, Small, CacheDirectory, progress: progress);

    [Fact]
    public void ACachedLoadHoldsTheSamePixelsLabelsAndRefusalsAsOneInMemory()
    {
        var memory = InMemory();
        var built = 0;
        var cached = Cached(new Progress<int>(_ => Interlocked.Increment(ref built)));

        Assert.False(cached.Cache!.Reused);
        Assert.Equal(memory.Images.Count, cached.Images.Count);
        Assert.Equal(memory.Images.Labels, cached.Images.Labels);
        Assert.Equal(memory.Images.Paths, cached.Images.Paths);
        for (var i = 0; i < memory.Images.Count; i++)
            Assert.True(memory.Images.Pixels(i).SequenceEqual(cached.Images.Pixels(i)), $"image {i} differs");
        var refused = Assert.Single(cached.Rejected);
        Assert.Equal(memory.Rejected.Single(), refused);
        Assert.EndsWith("notes.jpg", refused.Path, StringComparison.Ordinal);

        // The file is one header, a fixed-size record per photo (the refused one too), and the list.
        var length = new FileInfo(cached.Cache.Path).Length;
        Assert.InRange(length, 4096 + (_files.Count * 48 * 48 * 3), 4096 + (_files.Count * 48 * 48 * 3) + 64_000);

        var again = Cached(new Progress<int>(_ => Assert.Fail("a reused cache decodes nothing")));
        Assert.True(again.Cache!.Reused);
        Assert.Equal(cached.Cache.Path, again.Cache.Path);
        for (var i = 0; i < memory.Images.Count; i++)
            Assert.True(memory.Images.Pixels(i).SequenceEqual(again.Images.Pixels(i)), $"image {i} differs when reused");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheLoadersBatchesFromTheCacheAreTheInMemoryPathsBytesInTheSameOrder(bool augment)
    {
        var memory = InMemory().Images;
        var cached = Cached().Images;
        var options = augment ? AugmentOptions.Standard : null;
        const int batchSize = 7, microBatch = 3, seed = 11;

        // The in-memory path as a plain loop would take it: shuffle, then per image and view, one draw.
        var expected = new List<(byte[] Pixels, float Label)>();
        var changed = 0;
        var draws = new Random(seed + 1);
        foreach (var indices in ImageBatches.Batches(memory.Count, batchSize, new Random(seed)))
        {
            foreach (var index in indices)
            {
                var pixels = memory.Pixels(index).ToArray();
                if (options is not null)
                {
                    var source = pixels.ToArray();
                    Augmenter.Apply(source, pixels, memory.Size, AugmentParameters.Draw(options, draws));
                    changed += source.AsSpan().SequenceEqual(pixels) ? 0 : 1;
                }
                expected.Add((pixels, memory.Labels[index]));
            }
        }

        var loaded = new List<(byte[] Pixels, float Label)>();
        var batches = BatchLoader.Epoch(cached, ImageBatches.Batches(cached.Count, batchSize, new Random(seed)), microBatch, options, options is null ? null : new Random(seed + 1), CancellationToken.None).ToList();
        foreach (var batch in batches)
        {
            Assert.Equal(batch.Size, batch.Chunks.Sum(c => c.Count));
            Assert.All(batch.Chunks, c => Assert.InRange(c.Count, 1, microBatch));
            foreach (var chunk in batch.Chunks)
            {
                for (var i = 0; i < chunk.Count; i++)
                    loaded.Add((chunk.Pixels.AsSpan(i * cached.ImageBytes, cached.ImageBytes).ToArray(), chunk.Labels[i]));
            }
        }

        Assert.Equal((memory.Count + batchSize - 1) / batchSize, batches.Count);
        Assert.Equal(expected.Count, loaded.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Label, loaded[i].Label);
            Assert.True(expected[i].Pixels.AsSpan().SequenceEqual(loaded[i].Pixels), $"image {i} of the epoch differs");
        }
        Assert.Equal(augment ? expected.Count : 0, changed);
    }

    [Fact]
    public void ATruncatedCacheIsDetectedAndRebuiltNeverRead()
    {
        var memory = InMemory().Images;
        var path = Cached().Cache!.Path;
        using (var file = new FileStream(path, FileMode.Open))
            file.SetLength(file.Length - (48 * 48 * 3) - 10);

        var rebuilt = Cached();

        Assert.False(rebuilt.Cache!.Reused);
        Assert.Contains("bytes long", rebuilt.Cache.RebuiltBecause, StringComparison.Ordinal);
        for (var i = 0; i < memory.Count; i++)
            Assert.True(memory.Pixels(i).SequenceEqual(rebuilt.Images.Pixels(i)), $"image {i} differs after the rebuild");
        Assert.True(Cached().Cache!.Reused, "the rebuilt file is whole");
    }

    [Fact]
    public void ACacheOfOtherPhotosUnderThisName_OrWithABrokenHeader_IsRebuilt()
    {
        var memory = InMemory().Images;
        var path = PixelCache.PathOf(CacheDirectory, PixelCache.KeyOf([.. _files.Select(f => Hash(f.Path))], Small));
        // Another snapshot's cache (the same photos but one), renamed to this snapshot's name: same size class, other key.
        var other = PixelCache.Load(_files.Skip(1).ToList(), _classNames, Small, Path.Combine(_cache.Path, "other"));
        Directory.CreateDirectory(CacheDirectory);
        File.Copy(other.Cache!.Path, path);

        var rebuilt = Cached();

        Assert.Equal(path, rebuilt.Cache!.Path);
        Assert.False(rebuilt.Cache.Reused);
        Assert.Contains("other photos", rebuilt.Cache.RebuiltBecause, StringComparison.Ordinal);
        Assert.True(memory.Pixels(0).SequenceEqual(rebuilt.Images.Pixels(0)));

        using (var file = new FileStream(path, FileMode.Open))
            file.Write("garbage"u8);
        var again = Cached();
        Assert.False(again.Cache!.Reused);
        Assert.Contains("not a pixel cache", again.Cache.RebuiltBecause, StringComparison.Ordinal);
        Assert.True(memory.Pixels(memory.Count - 1).SequenceEqual(again.Images.Pixels(again.Images.Count - 1)));
    }

    [Fact]
    public void ANewCacheEvictsTheLeastRecentlyUsedBeyondTheBudget()
    {
        var first = PixelCache.Load(_files.Take(4).ToList(), _classNames, Small, CacheDirectory).Cache!.Path;
        File.SetLastWriteTimeUtc(first, DateTime.UtcNow.AddHours(-2));
        var second = PixelCache.Load(_files.Skip(4).Take(4).ToList(), _classNames, Small, CacheDirectory).Cache!.Path;
        File.SetLastWriteTimeUtc(second, DateTime.UtcNow.AddHours(-1));
        var budget = new FileInfo(second).Length * 2;

        var third = PixelCache.Load(_files.Skip(8).Take(4).ToList(), _classNames, Small, CacheDirectory, budgetBytes: budget).Cache!.Path;

        Assert.False(File.Exists(first), "the least recently used cache is deleted");
        Assert.True(File.Exists(second));
        Assert.True(File.Exists(third));
    }

    static string Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}

/// <summary>A fit from the cache is the fit from memory: the same weights to the last bit.</summary>
[Collection(TorchAlone.Name)]
public sealed class PixelCacheTrainingTests
{
    [Fact]
    public async Task AFitFromTheCacheEndsWithTheSameWeightsAsAFitFromMemory()
    {
        TorchRuntime.EnsureInitialized();
        using var cache = new TempDirectory();
        var folder = ImageFolder.Open(SharedPhotos.Root);
        var files = folder.Files.Where((_, i) => i % 10 == 0).ToList();
        var preparation = new ImagePreparation(32);
        var memory = ImageFiles.Load(files, folder.ClassNames, preparation).Images;
        var cached = PixelCache.Load(files, folder.ClassNames, preparation, cache.Path).Images;
        var options = new FitOptions { Epochs = 3, BatchSize = 8, LearningRate = 0.01, Seed = 3, Augmentation = AugmentOptions.Standard };

        async Task<(Dictionary<string, Tensor> Weights, TrainingHistory History)> FitAsync(ImageSet images)
        {
            manual_seed(5);
            var model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 1));
            var history = await new Trainer(CPU).FitAsync(model, images, images, options);
            return (model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone()), history);
        }

        var (fromMemory, memoryHistory) = await FitAsync(memory);
        var (fromCache, cacheHistory) = await FitAsync(cached);

        Assert.Equal(memoryHistory.Epochs.Select(e => e.Loss), cacheHistory.Epochs.Select(e => e.Loss));
        foreach (var (name, weights) in fromMemory)
            Assert.True(weights.eq(fromCache[name]).all().item<bool>(), $"{name} differs");
    }
}
