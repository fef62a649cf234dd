using System.Runtime.InteropServices;

namespace HappySad.Training.Native;

/// <summary>
/// Turns libtorch's NNPACK convolutions off for the process, so that libtorch stops asking whether
/// NNPACK is available (and logging that it is not) before every small convolution.
/// </summary>
/// <remarks>
/// <para>
/// libtorch 2.10 picks a convolution's kernel per call, and checks one that oneDNN does not take
/// against NNPACK next: a single image's small convolution (at most 20,480 input values, a kernel of
/// at most 3x3, no groups, such as the SSD detector's last prediction layers) on any number of
/// threads, and on one thread also a 1x1 convolution of fewer than 16 images (the tiny detector's
/// pointwise layers inside <see cref="IntraOpThreads.OneOnThisThread"/>, or any network's on a
/// one-core machine). Where NNPACK cannot start (on this project's AMD EPYC machines: "Unsupported
/// hardware") each check writes a warning line to stderr: <c>predict</c> over the 301 seed photos with
/// a best-preset model printed 2,352 of them, 5,362 with <c>OMP_NUM_THREADS=1</c>, and four threads
/// predicting in one process 47,260 in two minutes. NNPACK itself takes only batches of 16 or more,
/// which oneDNN takes first, so with oneDNN built in (as in the CPU build used here, whose
/// <c>at::Context::hasMKLDNN</c> answers true) it never runs: switching it off changes no kernel and no answer.
/// </para>
/// <para>
/// The switch is <c>at::Context::setUserEnabledNNPACK</c> (Python's <c>torch.backends.nnpack.set_flags</c>),
/// which TorchSharp does not wrap; it is called through its exported symbol in <c>libtorch_cpu.so</c>,
/// loaded from beside TorchSharp's own native library (the same copy TorchSharp loads next). Linux
/// only; elsewhere nothing changes.
/// </para>
/// </remarks>
public static unsafe class Nnpack
{
    const string LibTorchCpuFile = "libtorch_cpu.so";
    const string GlobalContext = "_ZN2at13globalContextEv";
    const string SetUserEnabled = "_ZN2at7Context20setUserEnabledNNPACKEb";
    const string UserEnabled = "_ZNK2at7Context17userEnabledNNPACKEv";

    /// <summary>
    /// Turns NNPACK off in the <c>libtorch_cpu.so</c> beside TorchSharp's native library; false where
    /// the library or its switch is not there (TorchSharp's own load reports a missing library better).
    /// </summary>
    internal static bool TurnOff()
    {
        if (!TryContext(out var library, out var context)
            || !NativeLibrary.TryGetExport(library, SetUserEnabled, out var set))
            return false;
        ((delegate* unmanaged<nint, byte, void>)set)(context, 0);
        return true;
    }

    /// <summary>Whether libtorch would consider NNPACK for a convolution; null where it cannot be asked.</summary>
    public static bool? Enabled()
    {
        TorchRuntime.EnsureInitialized();
        if (!TryContext(out var library, out var context)
            || !NativeLibrary.TryGetExport(library, UserEnabled, out var get))
            return null;
        return ((delegate* unmanaged<nint, byte>)get)(context) != 0;
    }

    static bool TryContext(out nint library, out nint context)
    {
        context = 0;
        var directory = Path.GetDirectoryName(TorchRuntime.FindLibTorchSharp());
        var path = directory is null ? null : Path.Combine(directory, LibTorchCpuFile);
        if (!OperatingSystem.IsLinux() || !File.Exists(path) || !NativeLibrary.TryLoad(path, out library))
        {
            library = 0;
            return false;
        }
        if (!NativeLibrary.TryGetExport(library, GlobalContext, out var globalContext))
            return false;
        context = ((delegate* unmanaged<nint>)globalContext)();
        return context != 0;
    }
}
