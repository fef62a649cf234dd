using HappySad.Tests.Support;
using HappySad.Web.Storage;

namespace HappySad.Tests.Web.Storage;

/// <summary>A move to a name is exclusive: when many movers race for one name, one wins and the file there is the winner's.</summary>
public sealed class ExclusiveMoveTests
{
    [Fact]
    public async Task OfManyMoversRacingForOneNameExactlyOneWinsAndTheFileThereIsItsOwn()
    {
        using var directory = new TempDirectory();
        const int movers = 8;
        for (var round = 0; round < 100; round++)
        {
            var target = Path.Combine(directory.Path, $"photo-{round}.png");
            var sources = Enumerable.Range(0, movers).Select(m => Path.Combine(directory.Path, $"spool-{round}-{m}.part")).ToArray();
            for (var m = 0; m < movers; m++)
                await File.WriteAllTextAsync(sources[m], $"mover {m}");
            using var start = new Barrier(movers);

            var won = await Task.WhenAll(Enumerable.Range(0, movers).Select(m => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                return ExclusiveMove.TryMove(sources[m], target);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

            var winner = Assert.Single(Enumerable.Range(0, movers), m => won[m]);
            Assert.Equal($"mover {winner}", await File.ReadAllTextAsync(target));
            Assert.All(Enumerable.Range(0, movers).Where(m => m != winner), m => Assert.Equal($"mover {m}", File.ReadAllText(sources[m])));
            Assert.False(File.Exists(sources[winner]));
        }
    }

    [Fact]
    public void ANameTakenAlreadyIsRefusedAndNeitherFileChanges()
    {
        using var directory = new TempDirectory();
        var (source, target) = (Path.Combine(directory.Path, "new.part"), Path.Combine(directory.Path, "kept.png"));
        File.WriteAllText(source, "new");
        File.WriteAllText(target, "kept");

        Assert.False(ExclusiveMove.TryMove(source, target));

        Assert.Equal("new", File.ReadAllText(source));
        Assert.Equal("kept", File.ReadAllText(target));
    }

    [Fact]
    public void AMissingSourceThrowsAndLeavesNoClaimBehind()
    {
        using var directory = new TempDirectory();
        var target = Path.Combine(directory.Path, "photo.png");

        Assert.Throws<FileNotFoundException>(() => ExclusiveMove.TryMove(Path.Combine(directory.Path, "gone.part"), target));

        Assert.False(File.Exists(target));
    }
}
