using HappySad.Training.Native;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Predictions;

/// <summary>
/// Loaded models, bounded and least recently used first out, so a request does not reload weights.
/// Inference on one model is serialised by its lease lock (libtorch already spreads one forward
/// pass over the cores); a model evicted while in use is disposed when its last lease ends.
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
    /// Runs <paramref name="use"/> with the loaded model of <paramref name="file"/>, loading it on first
    /// use. A changed file (same path, new write time) is loaded again.
    /// </summary>
    public T Use<T>(string file, Func<ImageClassifier, T> use)
    {
        ArgumentNullException.ThrowIfNull(use);
        var entry = Acquire(file);
        try
        {
            lock (entry.InferenceLock)
                return use(entry.Classifier);
        }
        finally
        {
            Release(entry);
        }
    }

    Entry Acquire(string file)
    {
        var stamp = File.GetLastWriteTimeUtc(file);
        lock (_gate)
        {
            if (_byFile.TryGetValue(file, out var node) && node.Value.Stamp == stamp)
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                node.Value.Leases++;
                return node.Value;
            }
            if (node is not null)
                Evict(node);
        }

        // Loading takes a moment: do it outside the lock, then keep whichever copy got in first.
        var loaded = new Entry(file, stamp, ModelStore.Load(file, TorchDevices.Resolve(DevicePreference.Auto)));
        lock (_gate)
        {
            Loads++;
            if (_byFile.TryGetValue(file, out var raced) && raced.Value.Stamp == stamp)
            {
                loaded.Classifier.Dispose();
                raced.Value.Leases++;
                return raced.Value;
            }
            loaded.Leases++;
            _byFile[file] = _recent.AddFirst(loaded);
            while (_byFile.Count > Math.Max(1, options.Value.CachedModels))
                Evict(_recent.Last!);
            logger.LogInformation("Loaded model {File} ({Count} cached)", file, _byFile.Count);
            return loaded;
        }
    }

    void Release(Entry entry)
    {
        lock (_gate)
        {
            if (--entry.Leases == 0 && entry.Evicted)
                entry.Classifier.Dispose();
        }
    }

    /// <summary>Called under the lock.</summary>
    void Evict(LinkedListNode<Entry> node)
    {
        _recent.Remove(node);
        _byFile.Remove(node.Value.File);
        node.Value.Evicted = true;
        if (node.Value.Leases == 0)
            node.Value.Classifier.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var entry in _recent)
                entry.Classifier.Dispose();
            _recent.Clear();
            _byFile.Clear();
        }
    }

    sealed class Entry(string file, DateTime stamp, ImageClassifier classifier)
    {
        public string File { get; } = file;
        public DateTime Stamp { get; } = stamp;
        public ImageClassifier Classifier { get; } = classifier;
        public Lock InferenceLock { get; } = new();
        public int Leases { get; set; }
        public bool Evicted { get; set; }
    }
}
