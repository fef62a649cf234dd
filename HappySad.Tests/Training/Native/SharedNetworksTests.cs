using HappySad.Training.Native;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Native;

/// <summary>
/// A process-wide network built on first use inside a caller's dispose scope keeps its weights when
/// that scope ends; built in place, TorchSharp would dispose them with the scope.
/// </summary>
public sealed class SharedNetworksTests
{
    [Fact]
    public void WhatIsBuiltOutlivesTheDisposeScopeItWasAskedForIn()
    {
        TorchRuntime.EnsureInitialized();
        Tensor shared, local;
        using (NewDisposeScope())
        {
            shared = SharedNetworks.Build(() => ones(3));
            local = ones(3);
        }

        Assert.True(local.IsInvalid, "a tensor made in the scope goes with it");
        using (shared)
        using (var sum = shared.sum())
            Assert.Equal(3f, sum.item<float>());
    }

    [Fact]
    public void AFailedBuildThrowsItsOwnExceptionToTheCaller()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SharedNetworks.Build<Tensor>(() => throw new FileNotFoundException("no weights here")));

        Assert.Equal("no weights here", e.Message);
    }
}
