namespace HappySad.Training.Native;

public enum CompatibilityOutcome
{
    /// <summary>The system libstdc++ defines every version the library asks for: nothing to do.</summary>
    NotNeeded,

    /// <summary>The missing versions were already marked weak by an earlier run.</summary>
    AlreadyWeak,

    /// <summary>The missing versions have just been marked weak in the library file.</summary>
    Patched,
}

public sealed record CompatibilityReport(CompatibilityOutcome Outcome, string LibraryPath, IReadOnlyList<string> WeakVersions)
{
    public override string ToString() => Outcome switch
    {
        CompatibilityOutcome.NotNeeded => $"{Path.GetFileName(LibraryPath)}: system libstdc++ is new enough",
        _ => $"{Path.GetFileName(LibraryPath)}: {string.Join(", ", WeakVersions)} marked weak ({Outcome})",
    };
}

/// <summary>
/// Lets a native library built against a newer libstdc++ load on an older one, when the only
/// versions it lacks are ones no relocation uses.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>libLibTorchSharp.so</c> was linked with GCC 13, whose headers reference
/// <c>std::ios_base_library_init()</c> (version <c>GLIBCXX_3.4.32</c>) only to pin that version: the
/// symbol is never called, so nothing relocates against it. Debian 12's libstdc++ stops at 3.4.30,
/// and glibc refuses to load a library with an unmet version requirement unless the requirement is
/// flagged <c>VER_FLG_WEAK</c>. Setting that flag (two bytes in <c>.gnu.version_r</c>) is the whole fix.
/// Before touching anything we check that no relocation needs a symbol of that version; if one
/// does, the library really needs the newer libstdc++ and we refuse with an explanation.
/// </remarks>
public static class LibStdCxxCompatibility
{
    public const string LibStdCxxName = "libstdc++.so.6";

    /// <summary>
    /// Marks weak every version the library needs from libstdc++ that <paramref name="available"/>
    /// lacks, rewriting the file atomically (write a sibling, then rename over it) so that a
    /// process loading it concurrently sees either the old or the new file, never half of one.
    /// </summary>
    public static CompatibilityReport EnsureLoadable(string libraryPath, IReadOnlySet<string> available)
    {
        ArgumentNullException.ThrowIfNull(available);
        var image = File.ReadAllBytes(libraryPath);
        var elf = ElfVersions.Read(image);
        var missing = elf.Needs.Where(n => n.File == LibStdCxxName && !available.Contains(n.Name)).ToList();
        var names = missing.Select(n => n.Name).ToList();
        if (missing.Count == 0)
            return new CompatibilityReport(CompatibilityOutcome.NotNeeded, libraryPath, []);
        if (missing.All(n => n.IsWeak))
            return new CompatibilityReport(CompatibilityOutcome.AlreadyWeak, libraryPath, names);

        foreach (var need in missing)
        {
            var relocated = elf.RelocatedSymbolsUsingVersion(need.Index);
            if (relocated.Count > 0)
            {
                throw new InvalidOperationException(
                    $"{Path.GetFileName(libraryPath)} needs {need.Name} from {LibStdCxxName} for {string.Join(", ", relocated)}, " +
                    $"which this system's libstdc++ does not provide. Install a newer libstdc++ (GCC 13 or later).");
            }
        }

        foreach (var need in missing.Where(n => !n.IsWeak))
        {
            var at = checked((int)need.FlagsOffset);
            var flags = (ushort)(image[at] | (image[at + 1] << 8) | ElfVersions.VerFlagWeak);
            image[at] = (byte)flags;
            image[at + 1] = (byte)(flags >> 8);
        }
        ReplaceAtomically(libraryPath, image);
        return new CompatibilityReport(CompatibilityOutcome.Patched, libraryPath, names);
    }

    /// <summary>
    /// The versions the process's libstdc++ defines, read from the file the dynamic loader maps
    /// for <see cref="LibStdCxxName"/>; null where it cannot be found (not Linux, or no libstdc++).
    /// </summary>
    public static IReadOnlySet<string>? SystemVersions()
    {
        var path = LoadedLibraryPath(LibStdCxxName);
        return path is null ? null : ElfVersions.Read(path).Definitions;
    }

    static string? LoadedLibraryPath(string name)
    {
        if (!OperatingSystem.IsLinux() || !System.Runtime.InteropServices.NativeLibrary.TryLoad(name, out _))
            return null;
        // The loader keeps the library loaded (we never free it), so its mapping names the real file.
        return File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 6)
            .Select(fields => fields[5].Trim())
            .FirstOrDefault(path => Path.GetFileName(path).StartsWith("libstdc++.so", StringComparison.Ordinal));
    }

    static void ReplaceAtomically(string path, byte[] image)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllBytes(temporary, image);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
            throw new InvalidOperationException(
                $"{path} must be patched to load on this system's older libstdc++, but its folder is not writable ({e.Message}). " +
                "Run once as the owner of the application folder, or use a system with GCC 13's libstdc++.", e);
        }
    }
}
