using System.Collections.Concurrent;
using System.Threading.Channels;

namespace HappySad.Web.Runs;

/// <summary>
/// Run ids waiting for the worker, in order, and the cancellation of each run this process is
/// executing. The database is the record of what is queued; this is only the hand-off.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is the queue of runs waiting for the worker, though not a collection type.")]
public sealed class RunQueue
{
    readonly Channel<int> _runs = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
    readonly ConcurrentDictionary<int, CancellationTokenSource> _executing = new();

    public void Enqueue(int runId) => _runs.Writer.TryWrite(runId);

    public IAsyncEnumerable<int> ReadAllAsync(CancellationToken cancellationToken) => _runs.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Registers a run this process is about to execute; its token fires when someone cancels the run.</summary>
    public CancellationToken Claim(int runId) =>
        _executing.GetOrAdd(runId, _ => new CancellationTokenSource()).Token;

    public void Release(int runId)
    {
        if (_executing.TryRemove(runId, out var source))
            source.Dispose();
    }

    /// <summary>Cancels a run executing in this process; false when it is not executing here.</summary>
    public bool TryCancel(int runId)
    {
        if (!_executing.TryGetValue(runId, out var source))
            return false;
        try
        {
            source.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }
}
