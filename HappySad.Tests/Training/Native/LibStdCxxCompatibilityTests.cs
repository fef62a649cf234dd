using HappySad.Tests.Support;
using HappySad.Training.Native;

namespace HappySad.Tests.Training.Native;

/// <summary>Works on copies of the real libLibTorchSharp.so that this test run loads.</summary>
public class LibStdCxxCompatibilityTests
{
    const string Needed = "GLIBCXX_3.4.32";
    static readonly string[] NewerThanDebian12 = ["GLIBCXX_3.4.31", Needed, "GLIBCXX_3.4.33", "GLIBCXX_3.4.34"];

    /// <summary>This machine's libstdc++ versions as Debian 12 has them (whatever this machine is).</summary>
    static readonly HashSet<string> Debian12 = [.. LibStdCxxCompatibility.SystemVersions()!.Except(NewerThanDebian12)];

    /// <summary>The same with GCC 13's additions, as Ubuntu 24.04 has them.</summary>
    static readonly HashSet<string> Gcc13 = [.. Debian12, "GLIBCXX_3.4.31", Needed];

    [Fact]
    public void MarksOnlyTheMissingVersionWeakAndOnlyOnce()
    {
        using var temp = new TempDirectory();
        var library = UnpatchedCopy(temp);
        var before = File.ReadAllBytes(library);

        var first = LibStdCxxCompatibility.EnsureLoadable(library, Debian12);
        var second = LibStdCxxCompatibility.EnsureLoadable(library, Debian12);

        Assert.Equal(CompatibilityOutcome.Patched, first.Outcome);
        Assert.Equal([Needed], first.WeakVersions);
        Assert.Equal(CompatibilityOutcome.AlreadyWeak, second.Outcome);
        var after = File.ReadAllBytes(library);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        var need = ElfVersions.Read(after).Find(LibStdCxxCompatibility.LibStdCxxName, Needed)!;
        Assert.Equal([need.FlagsOffset], changed.Select(i => (long)i));
        Assert.True(need.IsWeak);
        Assert.All(ElfVersions.Read(after).Needs.Where(n => n.Name != Needed), n => Assert.False(n.IsWeak));
    }

    [Fact]
    public void LeavesTheLibraryAloneWhereLibStdCxxIsNewEnough()
    {
        using var temp = new TempDirectory();
        var library = UnpatchedCopy(temp);
        var before = File.ReadAllBytes(library);

        var report = LibStdCxxCompatibility.EnsureLoadable(library, Gcc13);

        Assert.Equal(CompatibilityOutcome.NotNeeded, report.Outcome);
        Assert.Equal(before, File.ReadAllBytes(library));
    }

    [Fact]
    public void RefusesWhenARelocationNeedsTheMissingVersion()
    {
        using var temp = new TempDirectory();
        var library = UnpatchedCopy(temp);
        var image = File.ReadAllBytes(library);
        var elf = ElfVersions.Read(image);
        var need = elf.Find(LibStdCxxCompatibility.LibStdCxxName, Needed)!;
        Assert.Equal(["_ZSt21ios_base_library_initv"], elf.SymbolsUsingVersion(need.Index));
        Assert.Empty(elf.RelocatedSymbolsUsingVersion(need.Index));
        // Point one real relocation at the symbol that only the missing version provides.
        var symbol = elf.SymbolIndex("_ZSt21ios_base_library_initv", need.Index);
        var (infoOffset, _) = elf.Relocations().First(r => r.Symbol != 0);
        var info = BitConverter.ToUInt64(image, (int)infoOffset);
        BitConverter.GetBytes(((ulong)symbol << 32) | (info & 0xffffffff)).CopyTo(image, (int)infoOffset);
        File.WriteAllBytes(library, image);

        var e = Assert.Throws<InvalidOperationException>(() => LibStdCxxCompatibility.EnsureLoadable(library, Debian12));

        Assert.Contains("_ZSt21ios_base_library_initv", e.Message, StringComparison.Ordinal);
        Assert.Equal(image, File.ReadAllBytes(library));
    }

    [Fact]
    public void ReadsTheVersionsThisSystemsLibStdCxxDefines()
    {
        var versions = LibStdCxxCompatibility.SystemVersions();

        Assert.NotNull(versions);
        Assert.Contains("GLIBCXX_3.4.30", versions);
    }

    [Fact]
    public void TorchSharpLoadsInThisProcess()
    {
        TorchRuntime.EnsureInitialized();

        using var sum = TorchSharp.torch.ones(3, 3).sum();

        Assert.Equal(9f, sum.item<float>());
    }

    /// <summary>A copy of the loaded library with every version requirement's weak flag cleared, as shipped.</summary>
    static string UnpatchedCopy(TempDirectory temp)
    {
        TorchRuntime.EnsureInitialized();
        var image = File.ReadAllBytes(TorchRuntime.FindLibTorchSharp()!);
        foreach (var need in ElfVersions.Read(image).Needs)
            image[need.FlagsOffset] &= unchecked((byte)~0x2);
        var path = temp.File("libLibTorchSharp.so");
        File.WriteAllBytes(path, image);
        return path;
    }
}
