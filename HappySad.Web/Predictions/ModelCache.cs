using HappySad.Training.Native;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Predictions;

/// <summary>
/// Loaded models, bounded and least recently used first out, so a request does not reload weights.
/// Each loaded model has its own <see cref="PredictionBatcher"/>, whose one loop runs its forward
/// passes (libtorch already spreads one pass over the cores); a model evicted while in use is
/// disposed when its last lease ends.
/// </summary>
public sealed class ModelCache(IOptions<PredictionOptions> options, ILogger<ModelCache> logger) : IDisposable
{
    readonly Lock _gate = new();
    readonly LinkedList<Entry> _recent = [];
    readonly Dictionary<string, LinkedListNode<Entry>> _byFile = new(StringComparer.Ordinal);

    /// <summary>How many times a model was read from disk, for tests and logs.</summary>
    public int Loads { get; private set; }

    public int Count
    {
        get
        {
            lock (_gate)
                return _byFile.Count;
        }
    }

    /// <summary>
    /// The loaded model of <paramref name="file"/>, loaded on first use, kept loaded until the lease is
    /// disposed. A changed file (same path, new write time) is loaded again.
    /// </summary>
    public ModelLease Rent(string file) => new(this, Acquire(file));

    /// <summary>A loaded model in use: neither it nor its batcher is disposed before the lease is.</summary>
    public sealed class ModelLease : IDisposable
    {
        readonly ModelCache _cache;
        readonly Entry _entry;
        int _released;

        internal ModelLease(ModelCache cache, Entry entry) => (_cache, _entry) = (cache, entry);

        public ImageClassifier Classifier => _entry.Classifier;

        public PredictionBatcher Batcher => _entry.Batcher;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                _cache.Release(_entry);
        }
    }

    Entry Acquire(string file)
    {
        var stamp = File.GetLastWriteTimeUtc(file);
        var unused = new List<Entry>();
        try
        {
            lock (_gate)
            {
                // Deleted since it was listed (its run deleted, the file removed): its copy goes, and the model is not found.
                if (!File.Exists(file))
                {
                    if (_byFile.TryGetValue(file, out var gone))
                        Evict(gone, unused);
                    throw new FileNotFoundException("the model file was deleted", Path.GetFileName(file));
                }
                // A copy whose batch loop stopped on an error would refuse every request: it is loaded again.
                if (_byFile.TryGetValue(file, out var node) && node.Value.Stamp == stamp && !node.Value.Batcher.Stopped)
                {
                    _recent.Remove(node);
                    _recent.AddFirst(node);
                    node.Value.Leases++;
                    return node.Value;
                }
                if (node is not null)
                    Evict(node, unused);
            }

            // Loading takes a moment: do it outside the lock, then keep whichever copy got in first.
            var loaded = new Entry(file, stamp, ModelStore.Load(file, TorchDevices.Resolve(DevicePreference.Auto)), options.Value.Batching);
            lock (_gate)
            {
                Loads++;
                loaded.Leases++;
                if (_byFile.TryGetValue(file, out var raced))
                {
                    if (raced.Value.Stamp == stamp && !raced.Value.Batcher.Stopped)
                    {
                        loaded.Leases--;
                        unused.Add(loaded);
                        raced.Value.Leases++;
                        return raced.Value;
                    }
                    if (raced.Value.Stamp > stamp)
                    {
                        // The file changed while this copy loaded, and a request that saw the new
                        // file cached its copy first: this one serves its request and goes.
                        loaded.Evicted = true;
                        return loaded;
                    }
                    Evict(raced, unused);
                }
                _byFile[file] = _recent.AddFirst(loaded);
                while (_byFile.Count > Math.Max(1, options.Value.CachedModels))
                    Evict(_recent.Last!, unused);
                logger.LogInformation("Loaded model {File} ({Count} cached)", file, _byFile.Count);
                return loaded;
            }
        }
        finally
        {
            // Disposing a model waits for its batch loop: never while holding the lock every request takes.
            foreach (var entry in unused)
                entry.Dispose();
        }
    }

    void Release(Entry entry)
    {
        bool last;
        lock (_gate)
            last = --entry.Leases == 0 && entry.Evicted;
        if (last)
            entry.Dispose();
    }

    /// <summary>Called under the lock; an entry no lease holds goes to <paramref name="unused"/>, to be disposed after it.</summary>
    void Evict(LinkedListNode<Entry> node, List<Entry> unused)
    {
        _recent.Remove(node);
        if (_byFile.TryGetValue(node.Value.File, out var mapped) && mapped == node)
            _byFile.Remove(node.Value.File);
        node.Value.Evicted = true;
        if (node.Value.Leases == 0)
            unused.Add(node.Value);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var entry in _recent)
                entry.Dispose();
            _recent.Clear();
            _byFile.Clear();
        }
    }

    internal sealed class Entry(string file, DateTime stamp, ImageClassifier classifier, BatchWindow window) : IDisposable
    {
        public string File { get; } = file;
        public DateTime Stamp { get; } = stamp;
        public ImageClassifier Classifier { get; } = classifier;
        public PredictionBatcher Batcher { get; } = new(classifier, window);
        public int Leases { get; set; }
        public bool Evicted { get; set; }

        /// <summary>The batcher first: it finishes the images it holds with the model still alive.</summary>
        public void Dispose()
        {
            Batcher.Dispose();
            Classifier.Dispose();
        }
    }
}
