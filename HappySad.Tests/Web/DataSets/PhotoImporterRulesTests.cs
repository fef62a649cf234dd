using HappySad.Web.DataSets;

namespace HappySad.Tests.Web.DataSets;

public class PhotoImporterRulesTests
{
    static readonly string[] Classes = ["happy", "sad"];

    [Theory]
    [InlineData("happy/a.jpg", null, "happy")]
    [InlineData("export/SAD/a.jpg", "happy", "sad")]
    [InlineData("sad/happy/a.jpg", null, "happy")]
    [InlineData("a.jpg", "sad", "sad")]
    [InlineData("other/a.jpg", null, null)]
    [InlineData("a.jpg", "angry", null)]
    public void TheNearestClassFolderWinsThenTheChosenClass(string path, string? chosen, string? expected) =>
        Assert.Equal(expected, PhotoImporter.ResolveClass(path, Classes, chosen));

    [Theory]
    [InlineData("../x.jpg")]
    [InlineData("happy/../../x.jpg")]
    [InlineData("/etc/passwd")]
    [InlineData("C:\\x.jpg")]
    [InlineData("happy\\..\\..\\x.jpg")]
    public void ZipEntriesThatLeaveTheirFolderAreRefused(string entry) =>
        Assert.NotNull(PhotoImporter.UnsafeEntryReason(entry));

    [Theory]
    [InlineData("happy/a.jpg")]
    [InlineData("a..b.jpg")]
    public void OrdinaryZipEntriesPass(string entry) =>
        Assert.Null(PhotoImporter.UnsafeEntryReason(entry));

    [Theory]
    [InlineData("folder/sub/photo.jpg", "photo.jpg")]
    [InlineData("..\\..\\evil.jpg", "evil.jpg")]
    [InlineData("bad\u0000name\u001b.jpg", "badname.jpg")]
    [InlineData("   ", "unnamed")]
    public void NamesAreReducedToAPlainFileName(string name, string expected) =>
        Assert.Equal(expected, PhotoImporter.SanitiseName(name));
}
