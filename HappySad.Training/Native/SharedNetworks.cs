using System.Runtime.ExceptionServices;

namespace HappySad.Training.Native;

/// <summary>
/// Builds the process-wide pretrained networks (the face detectors, the expression network that picks
/// the happiest face, MoveNet) where no caller's dispose scope can claim their weights.
/// </summary>
/// <remarks>
/// TorchSharp adds every tensor made on a thread to that thread's innermost dispose scope. A shared
/// network built on first use inside a caller's <c>NewDisposeScope()</c> would have its weights
/// disposed when that scope ends, and every later pass in the process would fail ("Tensor invalid --
/// empty handle"). A new thread has no scope, so the network is built on one. The caller waits for
/// it, so what builds the network must not take a lock its caller holds.
/// </remarks>
public static class SharedNetworks
{
    public static T Build<T>(Func<T> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        T? built = default;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                built = build();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, maxStackSize: 16 << 20) { Name = "shared network load", IsBackground = true };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return built!;
    }
}
