using System.Collections.Concurrent;

namespace HappySad.Training.Data;

/// <summary>
/// Bounds how many images are decoded at once across the process. A decoded bitmap costs 4 bytes a
/// pixel however small its file was, so many concurrent decompression bombs (each under the pixel
/// limit) would multiply memory; with a gate they queue instead. One gate per permit count, shared
/// by everything configured alike.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Gates live as long as the process; a SemaphoreSlim whose wait handle is never asked for holds nothing to free.")]
public sealed class DecodeGate
{
    static readonly ConcurrentDictionary<int, DecodeGate> Gates = new();

    readonly SemaphoreSlim _permits;

    DecodeGate(int permits)
    {
        Permits = permits;
        _permits = new SemaphoreSlim(permits, permits);
    }

    /// <summary>One permit a core: decoding is CPU-bound, so more at once would not finish sooner.</summary>
    public static DecodeGate Default => For(Environment.ProcessorCount);

    public int Permits { get; }

    /// <summary>The process-wide gate with <paramref name="permits"/> permits (at least one).</summary>
    public static DecodeGate For(int permits) => Gates.GetOrAdd(Math.Max(1, permits), count => new DecodeGate(count));

    /// <summary>
    /// Options for a loop whose every step decodes an image: as many workers as permits. More would
    /// only wait at the gate, and the thread pool, seeing its threads blocked, keeps adding threads,
    /// each with a malloc arena of its own that keeps the decoding buffers it freed: preparing the 301
    /// seed photos for a face model grew to 45 threads and a 3.2 GB peak that way.
    /// </summary>
    public ParallelOptions LoopOptions(CancellationToken cancellationToken) =>
        new() { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Permits };

    /// <summary>Waits for a permit; disposing the result gives it back.</summary>
    public IDisposable Enter()
    {
        _permits.Wait();
        return new Permit(_permits);
    }

    sealed class Permit(SemaphoreSlim permits) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                permits.Release();
        }
    }
}
