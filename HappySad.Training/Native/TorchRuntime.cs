namespace HappySad.Training.Native;

/// <summary>
/// Prepares the process for TorchSharp. Call <see cref="EnsureInitialized"/> before the first use of
/// any TorchSharp type: once TorchSharp has failed to load its native library it does not retry.
/// Every entry point of this library that touches TorchSharp calls it, so callers rarely need to.
/// </summary>
public static class TorchRuntime
{
    const string LibTorchSharpFile = "libLibTorchSharp.so";
    static readonly Lock Gate = new();
    static CompatibilityReport? _compatibility;
    static bool _initialized;

    /// <summary>What the libstdc++ check found or did; null off Linux or before initialisation.</summary>
    public static CompatibilityReport? Compatibility
    {
        get { lock (Gate) return _compatibility; }
    }

    /// <summary>Whether glibc's allocator was tuned for libtorch's large per-batch buffers (see <see cref="NativeMemory"/>).</summary>
    public static bool AllocatorTuned { get; private set; }

    /// <summary>Whether libtorch's NNPACK check (and its warning line per small convolution) was switched off (see <see cref="Nnpack"/>).</summary>
    public static bool NnpackOff { get; private set; }

    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (_initialized)
                return;
            if (OperatingSystem.IsLinux())
            {
                AllocatorTuned = NativeMemory.TuneAllocator();
                _compatibility = MakeLibTorchSharpLoadable();
                // Loads libtorch now rather than at TorchSharp's first call (about 0.35 s either way).
                NnpackOff = Nnpack.TurnOff();
            }
            _initialized = true;
        }
    }

    static CompatibilityReport? MakeLibTorchSharpLoadable()
    {
        var library = FindLibTorchSharp();
        var available = LibStdCxxCompatibility.SystemVersions();
        // Without either we cannot reason about versions; TorchSharp's own error will say more.
        if (library is null || available is null)
            return null;
        return LibStdCxxCompatibility.EnsureLoadable(library, available);
    }

    /// <summary>
    /// The file the runtime will load for TorchSharp's <c>LibTorchSharp</c>: the first match in the
    /// native search directories the host computed from the app's deps.json, as the runtime probes them.
    /// </summary>
    internal static string? FindLibTorchSharp()
    {
        var searchDirectories = (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(AppContext.BaseDirectory)
            .Append(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"));
        return searchDirectories
            .Select(directory => Path.Combine(directory, LibTorchSharpFile))
            .FirstOrDefault(File.Exists);
    }
}
