using System.Diagnostics;
using System.Runtime.InteropServices;

namespace HappySad.Training.Native;

/// <summary>
/// How many threads libtorch spreads one operation over, set for the calling thread alone.
/// </summary>
/// <remarks>
/// <para>
/// libtorch's CPU build runs its kernels on the OpenMP runtime it ships (<c>libgomp-*.so.1</c> next
/// to <c>libtorch_cpu.so</c>), and OpenMP keeps the thread count of a parallel region per calling
/// thread (its <c>nthreads-var</c>). <c>torch.set_num_threads</c> sets it for whoever calls it and
/// for threads not yet started, which in a server is in effect the whole process. Setting it here,
/// around one pass on one thread, lets passes that overlap (requests preparing their photos at
/// once) each run on one core instead of all of them splitting every operation over both cores and
/// spinning while they wait for each other, while a lone pass still gets every core. Code that
/// serialises passes because one pass takes every core (the face detectors) does so through
/// <see cref="OnePassAtATime"/>, which lets one-core passes run side by side.
/// </para>
/// <para>
/// Off Linux, where the runtime is not found, or with <c>HAPPYSAD_PASS_THREADS=all</c> (for
/// comparisons), <see cref="OneOnThisThread"/> changes nothing.
/// </para>
/// </remarks>
public static unsafe class IntraOpThreads
{
    const string SwitchVariable = "HAPPYSAD_PASS_THREADS";
    static readonly Lazy<nint> SetNumThreadsExport = new(Find);

    /// <summary>Whether the calling thread's count can be set (libtorch's OpenMP runtime was found).</summary>
    public static bool Available => SetNumThreadsExport.Value != 0;

    [ThreadStatic]
    static int _oneThreadScopes;

    /// <summary>Whether the calling thread is inside <see cref="OneOnThisThread"/> (and it took effect).</summary>
    public static bool OnOneThread => _oneThreadScopes > 0;

    /// <summary>
    /// Runs <paramref name="pass"/> holding <paramref name="gate"/>, one such pass at a time, as long
    /// as a pass spreads over every core; on one core (<see cref="OnOneThread"/>) passes run side by side.
    /// </summary>
    public static T OnePassAtATime<T>(Lock gate, Func<T> pass)
    {
        ArgumentNullException.ThrowIfNull(pass);
        if (OnOneThread)
            return pass();
        lock (gate)
            return pass();
    }

    /// <summary>
    /// Runs this thread's libtorch operations on one thread until the result is disposed, which
    /// restores the count it had. Dispose it on the same thread, before awaiting anything.
    /// </summary>
    public static Scope OneOnThisThread()
    {
        if (!Available)
            return default;
        // libtorch's own getter: on a thread's first use it also gives the thread libtorch's count,
        // which would otherwise overwrite ours at the thread's first parallel operation.
        var before = TorchSharp.torch.get_num_threads();
        if (before != 1)
            SetNumThreads(1);
        _oneThreadScopes++;
        return new Scope(before, Environment.CurrentManagedThreadId);
    }

    /// <summary>Restores the calling thread's thread count when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        readonly int _before;
        readonly int _thread;

        internal Scope(int before, int thread) => (_before, _thread) = (before, thread);

        public void Dispose()
        {
            if (_before == 0)
                return; // default: nothing was set
            Debug.Assert(Environment.CurrentManagedThreadId == _thread, "a thread-count scope must end on the thread that began it");
            _oneThreadScopes--;
            if (_before > 1)
                SetNumThreads(_before);
        }
    }

    static void SetNumThreads(int threads) => ((delegate* unmanaged<int, void>)SetNumThreadsExport.Value)(threads);

    /// <summary>
    /// Whether <paramref name="set"/> is the runtime libtorch reads: a copy left from an older
    /// TorchSharp beside the new one would load as a second runtime whose setting changes nothing.
    /// </summary>
    static bool IsLibtorchs(nint set)
    {
        var setNumThreads = (delegate* unmanaged<int, void>)set;
        var before = TorchSharp.torch.get_num_threads();
        setNumThreads(before == 1 ? 2 : 1);
        var seen = TorchSharp.torch.get_num_threads();
        setNumThreads(before);
        return seen != before;
    }

    /// <summary>
    /// <c>omp_set_num_threads</c> of the OpenMP runtime libtorch loaded, the <c>libgomp</c> shipped
    /// beside <c>libtorch_cpu.so</c> (loading it again by its path gives the already loaded copy,
    /// whose settings libtorch reads); 0 where there is none.
    /// </summary>
    static nint Find()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(SwitchVariable) == "all")
            return 0;
        TorchRuntime.EnsureInitialized();
        var directory = Path.GetDirectoryName(TorchRuntime.FindLibTorchSharp());
        if (directory is null || !Directory.Exists(directory))
            return 0;
        foreach (var file in Directory.EnumerateFiles(directory, "libgomp*.so*"))
        {
            if (!NativeLibrary.TryLoad(file, out var library))
                continue;
            if (NativeLibrary.TryGetExport(library, "omp_set_num_threads", out var set) && IsLibtorchs(set))
                return set;
            NativeLibrary.Free(library); // not libtorch's: unload the copy we loaded
        }
        return 0;
    }
}
