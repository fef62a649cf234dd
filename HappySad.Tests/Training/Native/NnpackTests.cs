using System.Runtime.InteropServices;
using System.Text;
using HappySad.Tests.Support;
using HappySad.Training.Native;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Native;

public sealed class NnpackTests
{
    [Fact]
    public void LibtorchNoLongerConsidersNnpackOnceTheRuntimeIsInitialized()
    {
        TorchRuntime.EnsureInitialized();
        Assert.True(TorchRuntime.NnpackOff, "libtorch_cpu.so and its NNPACK switch should be found beside libLibTorchSharp.so");
        Assert.False(Nnpack.Enabled());
    }

    /// <summary>
    /// A pointwise convolution of one image on one thread, the face networks' commonest layer while
    /// requests overlap: before the switch, libtorch wrote "Could not initialize NNPACK! Reason:
    /// Unsupported hardware." to stderr for each one on this project's machines, and the numbers are
    /// the same as on every core.
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

    /// <summary>What native code writes to file descriptor 2 while <paramref name="action"/> runs (other tests' lines included).</summary>
    static string StandardErrorOf(Action action)
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.Write))
            {
                var saved = Dup(2);
                Assert.True(saved >= 0, "dup(2) failed");
                Assert.True(Dup2((int)file.DangerousGetHandle(), 2) >= 0, "dup2 failed");
                try
                {
                    action();
                }
                finally
                {
                    // Put stderr back before anything can fail, and say so if it could not be.
                    var restored = Dup2(saved, 2) >= 0;
                    _ = Close(saved);
                    Assert.True(restored, "could not restore stderr");
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
