using System.Runtime.InteropServices;
using System.Text;
using HappySad.Tests.Support;
using HappySad.Training.Native;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Native;

/// <summary>
/// Runs alone: while a test here points the process's stderr (file descriptor 2) at a file, anything
/// another test wrote there would be lost.
/// </summary>
[Collection(Name)]
public sealed class NnpackTests
{
    public const string Name = "Native stderr captured";

    [Fact]
    public void LibtorchNoLongerConsidersNnpackOnceTheRuntimeIsInitialized()
    {
        TorchRuntime.EnsureInitialized();
        Assert.True(TorchRuntime.NnpackOff, "libtorch_cpu.so and its NNPACK switch should be found beside libLibTorchSharp.so");
        Assert.False(Nnpack.Enabled());
    }

    /// <summary>
    /// A pointwise convolution of one image on one thread, the commonest layer of the face detectors
    /// while requests overlap: before the switch, libtorch wrote "Could not initialize NNPACK! Reason:
    /// Unsupported hardware." to stderr for each one on this project's machines (oneDNN leaves a 1x1
    /// convolution of under 16 images on one thread to libtorch's own kernel, which asks about NNPACK
    /// first). The numbers are the same as on every core.
    /// </summary>
    [Fact]
    public void APointwiseConvolutionOnOneThreadWritesNothingToStandardError()
    {
        TorchRuntime.EnsureInitialized();
        using var generator = new Generator(3);
        using var input = rand([1, 32, 24, 24], generator: generator);
        using var weight = rand([64, 32, 1, 1], generator: generator);
        using var all = nn.functional.conv2d(input, weight);
        Tensor? one = null;
        var written = StandardErrorOf(() =>
        {
            Write("capture works\n");
            FreshThread.Run(() =>
            {
                using var scope = IntraOpThreads.OneOnThisThread();
                Assert.Equal(1, get_num_threads());
                for (var i = 0; i < 3; i++)
                {
                    one?.Dispose();
                    one = nn.functional.conv2d(input, weight);
                }
            });
        });
        using (one)
        {
            Assert.Contains("capture works", written, StringComparison.Ordinal);
            Assert.DoesNotContain("NNPACK", written, StringComparison.Ordinal);
            Assert.True(all.allclose(one!, rtol: 1e-5, atol: 1e-5));
        }
    }

    /// <summary>What native code writes to file descriptor 2 while <paramref name="action"/> runs.</summary>
    static string StandardErrorOf(Action action)
    {
        // .NET opens its own copy of descriptor 2 on first use of Console.Error: make sure that copy
        // is the real stderr, not the file.
        Console.Error.Flush();
        var path = Path.GetTempFileName();
        try
        {
            using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.Write))
            {
                var saved = Dup(2);
                Assert.True(saved >= 0, "dup(2) failed");
                try
                {
                    Assert.True(Dup2((int)file.DangerousGetHandle(), 2) >= 0, "dup2 failed");
                    action();
                }
                finally
                {
                    // Put stderr back; a failure to do so is not worth hiding the test's own failure for.
                    _ = Dup2(saved, 2);
                    _ = Close(saved);
                }
            }
            return File.ReadAllText(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    static void Write(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Assert.Equal(bytes.Length, NativeWrite(2, bytes, bytes.Length));
    }

    [DllImport("libc", EntryPoint = "dup")]
    static extern int Dup(int descriptor);

    [DllImport("libc", EntryPoint = "dup2")]
    static extern int Dup2(int descriptor, int target);

    [DllImport("libc", EntryPoint = "close")]
    static extern int Close(int descriptor);

    [DllImport("libc", EntryPoint = "write")]
    static extern nint NativeWrite(int descriptor, byte[] buffer, nint count);
}

[CollectionDefinition(NnpackTests.Name, DisableParallelization = true)]
public sealed class NativeStderrCaptured;
