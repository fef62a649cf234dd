using HappySad.Tests.Support;
using HappySad.Web.Storage;

namespace HappySad.Tests.Web.Storage;

/// <summary>
/// A move to a name is exclusive: when many movers race for one name, one wins and the file there is
/// the winner's. Both ways are held to it: a hard link (what Linux uses) and the claim by exclusive
/// create (file systems without hard links).
/// </summary>
public sealed class ExclusiveMoveTests
{
    public static TheoryData<string> Ways => ["link", "claim"];

    static bool Move(string way, string source, string target) =>
        way == "link" ? ExclusiveMove.TryMove(source, target) : ExclusiveMove.TryClaimAndRename(source, target);

    [Theory]
    [MemberData(nameof(Ways))]
    public async Task OfManyMoversRacingForOneNameExactlyOneWinsAndTheFileThereIsItsOwn(string way)
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
                return Move(way, sources[m], target);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

            var winner = Assert.Single(Enumerable.Range(0, movers), m => won[m]);
            Assert.Equal($"mover {winner}", await File.ReadAllTextAsync(target));
            Assert.All(Enumerable.Range(0, movers).Where(m => m != winner), m => Assert.Equal($"mover {m}", File.ReadAllText(sources[m])));
            Assert.False(File.Exists(sources[winner]));
        }
    }

    [Theory]
    [MemberData(nameof(Ways))]
    public void ANameTakenAlreadyIsRefusedAndNeitherFileChanges(string way)
    {
        using var directory = new TempDirectory();
        var (source, target) = (Path.Combine(directory.Path, "new.part"), Path.Combine(directory.Path, "kept.png"));
        File.WriteAllText(source, "new");
        File.WriteAllText(target, "kept");

        Assert.False(Move(way, source, target));

        Assert.Equal("new", File.ReadAllText(source));
        Assert.Equal("kept", File.ReadAllText(target));
    }

    [Theory]
    [MemberData(nameof(Ways))]
    public void AMissingSourceThrowsAndLeavesNoClaimBehind(string way)
    {
        using var directory = new TempDirectory();
        var target = Path.Combine(directory.Path, "photo.png");

        Assert.Throws<FileNotFoundException>(() => Move(way, Path.Combine(directory.Path, "gone.part"), target));

        Assert.False(File.Exists(target));
    }
}
