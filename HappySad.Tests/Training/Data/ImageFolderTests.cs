using HappySad.Tests.Support;
using HappySad.Training.Data;
using SkiaSharp;

namespace HappySad.Tests.Training.Data;

public class ImageFolderTests
{
    [Fact]
    public void OrdersClassesByOrdinalFolderNameLikeKeras()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("sad/a.png"), TestImages.Solid(40, 40, SKColors.Blue));
        File.WriteAllBytes(temp.File("happy/b.png"), TestImages.Solid(40, 40, SKColors.Yellow));

        var folder = ImageFolder.Open(temp.Path);

        Assert.Equal(["happy", "sad"], folder.ClassNames);
        Assert.Equal(1, folder.Files.Single(f => f.Path.EndsWith("a.png", StringComparison.Ordinal)).Label);
    }

    /// <summary>A class is named as its folder, composed: a model trained straight from a macOS folder names "glücklich" as a data set does; its files are still found.</summary>
    [Fact]
    public void NamesAClassByItsFolderComposedAndRefusesTwoFoldersThatReadAsOne()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("glu\u0308cklich/a.png"), TestImages.Solid(40, 40, SKColors.Yellow));
        File.WriteAllBytes(temp.File("traurig/b.png"), TestImages.Solid(40, 40, SKColors.Blue));

        var folder = ImageFolder.Open(temp.Path);

        Assert.Equal(["glücklich", "traurig"], folder.ClassNames);
        Assert.Equal(0, folder.Files.Single(f => f.Path.EndsWith("a.png", StringComparison.Ordinal)).Label);
        Assert.True(File.Exists(folder.Files[0].Path));

        using var twice = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(twice.Path, "Happy"));
        Directory.CreateDirectory(Path.Combine(twice.Path, "happy"));
        var e = Assert.Throws<DataSetException>(() => ImageFolder.Open(twice.Path));
        Assert.Contains("'Happy' and 'happy', which read as one name", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("happy")]
    [InlineData("happy,sad,angry")]
    public void RefusesAnythingButTwoClasses(string classes)
    {
        using var temp = new TempDirectory();
        foreach (var name in classes.Split(',', StringSplitOptions.RemoveEmptyEntries))
            Directory.CreateDirectory(Path.Combine(temp.Path, name));

        var e = Assert.Throws<DataSetException>(() => ImageFolder.Open(temp.Path));

        Assert.Contains("exactly two class folders", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadKeepsGoodImagesReportsBadOnesAndNotesLyingExtensions()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("happy/good.png"), TestImages.Solid(40, 40, SKColors.Yellow));
        File.WriteAllBytes(temp.File("happy/really-a-png.jpg"), TestImages.Solid(40, 40, SKColors.Orange));
        File.WriteAllBytes(temp.File("sad/good.jpg"), TestImages.Solid(40, 40, SKColors.Blue, SKEncodedImageFormat.Jpeg));
        File.WriteAllBytes(temp.File("sad/empty.jpg"), []);
        File.WriteAllText(temp.File("sad/page.png"), "<html><body>not found</body></html>");

        var load = ImageFolder.Open(temp.Path).Load();

        Assert.Equal(3, load.Images.Count);
        Assert.Equal([0, 0, 1], load.Images.Labels);
        Assert.Equal(["empty.jpg", "page.png"], load.Rejected.Select(r => Path.GetFileName(r.Path)).Order());
        Assert.All(load.Rejected, r => Assert.Equal("sad", r.ClassName));
        var lie = Assert.Single(load.Mislabeled);
        Assert.EndsWith("really-a-png.jpg", lie.Path, StringComparison.Ordinal);
        Assert.Equal("extension says JPEG but the content is PNG", lie.Reason);
    }

    [Fact]
    public void ScanQuarantinesBadFilesWithoutDeletingAnything()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("data/happy/good.png"), TestImages.Solid(40, 40, SKColors.Yellow));
        File.WriteAllBytes(temp.File("data/happy/tiny.png"), TestImages.Solid(8, 8, SKColors.Yellow));
        File.WriteAllBytes(temp.File("data/sad/good.png"), TestImages.Solid(40, 40, SKColors.Blue));
        File.WriteAllText(temp.File("data/sad/notes.txt"), "to do");
        File.WriteAllText(temp.File("quarantine/sad/notes.txt"), "already here");

        var report = DataScanner.Scan(ImageFolder.Open(Path.Combine(temp.Path, "data")));
        var moves = DataScanner.Quarantine(report.Rejected, Path.Combine(temp.Path, "quarantine"));

        Assert.Equal(2, report.Usable);
        Assert.Equal(2, moves.Count);
        Assert.False(File.Exists(temp.File("data/happy/tiny.png")));
        Assert.True(File.Exists(temp.File("quarantine/happy/tiny.png")));
        Assert.Equal("already here", File.ReadAllText(temp.File("quarantine/sad/notes.txt")));
        Assert.Equal("to do", File.ReadAllText(temp.File("quarantine/sad/notes.1.txt")));
    }

    /// <summary>A class folder holding a link back up (<c>ln -s .. up</c>) lists its photos once, not once a level until the path is refused.</summary>
    [Fact]
    public void ALinkedFolderIsNotEntered()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("happy/a.png"), TestImages.Solid(40, 40, SKColors.Yellow));
        File.WriteAllBytes(temp.File("sad/b.png"), TestImages.Solid(40, 40, SKColors.Blue));
        File.CreateSymbolicLink(temp.File("happy/up"), "..");

        var folder = ImageFolder.Open(temp.Path);

        Assert.Equal([temp.File("happy/a.png"), temp.File("sad/b.png")], folder.Files.Select(f => f.Path));
    }

    /// <summary>A file that cannot be read (here a folder where a photo was listed) is refused with its reason; the rest load.</summary>
    [Fact]
    public void AFileThatCannotBeReadIsRefusedAndTheRestLoad()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("happy/a.png"), TestImages.Solid(40, 40, SKColors.Yellow));
        Directory.CreateDirectory(temp.File("sad/b.png"));

        var load = ImageFiles.Load([new LabeledFile(temp.File("happy/a.png"), 0), new LabeledFile(temp.File("sad/b.png"), 1)], ["happy", "sad"]);

        Assert.Equal(1, load.Images.Count);
        var refused = Assert.Single(load.Rejected);
        Assert.Equal((RejectionKind.Unreadable, "a folder, not a photo: name the photos in it"), (refused.Kind, refused.Reason));
    }

    /// <summary>Class folders are matched to a model's classes by name whatever their case, as an import matches them.</summary>
    [Fact]
    public void ClassFoldersMatchAModelsClassesWhateverTheirCase()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("SAD/a.png"), TestImages.Solid(40, 40, SKColors.Blue));
        File.WriteAllBytes(temp.File("Happy/b.png"), TestImages.Solid(40, 40, SKColors.Yellow));
        var images = ImageFolder.Open(temp.Path).Load(64).Images;
        Assert.Equal(["Happy", "SAD"], images.ClassNames);

        var relabelled = images.InClassOrder(["sad", "happy"]);

        Assert.Equal(["sad", "happy"], relabelled.ClassNames);
        Assert.Equal([1, 0], relabelled.Labels);
        Assert.Throws<DataSetException>(() => images.InClassOrder(["happy", "angry"]));
    }
}
