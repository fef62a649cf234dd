using HappySad.Tests.Support;
using HappySad.Training.Native;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Native;

public sealed class IntraOpThreadsTests
{
    /// <summary>
    /// The setting is libtorch's own: <c>torch.get_num_threads</c>, which asks libtorch, sees it on
    /// this thread and not on another, and sees the old count again afterwards.
    /// </summary>
    [Fact]
    public void OneThreadHoldsForTheCallingThreadOnlyAndIsUndoneAfter()
    {
        TorchRuntime.EnsureInitialized();
        Assert.True(IntraOpThreads.Available, "libtorch's OpenMP runtime should be found next to libtorch_cpu.so");
        FreshThread.Run(() =>
        {
            var before = get_num_threads();
            Assert.True(before > 1 || Environment.ProcessorCount == 1, $"libtorch should use every core by default, not {before} of {Environment.ProcessorCount}");
            int inside, elsewhere = 0;
            bool flagged, flaggedElsewhere = true;
            using (IntraOpThreads.OneOnThisThread())
            {
                inside = get_num_threads();
                flagged = IntraOpThreads.OnOneThread;
                FreshThread.Run(() => (elsewhere, flaggedElsewhere) = (get_num_threads(), IntraOpThreads.OnOneThread));
            }
            Assert.Equal((1, true, false), (inside, flagged, flaggedElsewhere));
            Assert.False(IntraOpThreads.OnOneThread);
            Assert.Equal(before, get_num_threads());
            Assert.Equal(before, elsewhere);
        });
    }

    /// <summary>Results do not depend on it beyond float rounding: a convolution on one thread and on all.</summary>
    [Fact]
    public void AConvolutionGivesTheSameNumbersOnOneThread()
    {
        TorchRuntime.EnsureInitialized();
        FreshThread.Run(() =>
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator(7);
            var input = rand([2, 3, 96, 96], generator: generator);
            var weight = rand([16, 3, 3, 3], generator: generator);
            var all = nn.functional.conv2d(input, weight, padding: [1, 1]);
            Tensor one;
            using (IntraOpThreads.OneOnThisThread())
                one = nn.functional.conv2d(input, weight, padding: [1, 1]);
            Assert.True(all.allclose(one, rtol: 1e-5, atol: 1e-6));
        });
    }
}
