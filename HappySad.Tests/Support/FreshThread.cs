namespace HappySad.Tests.Support;

/// <summary>
/// Runs test code on a new thread and rethrows what it threw: libtorch keeps a thread count per
/// thread, so checks of it need a thread no earlier test has touched.
/// </summary>
public static class FreshThread
{
    public static void Run(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { action(); }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }
}
