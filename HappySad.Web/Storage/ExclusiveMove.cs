using System.Runtime.InteropServices;

namespace HappySad.Web.Storage;

/// <summary>
/// Moves a file to a name no one else has, or says that someone has it, atomically even when two
/// threads or processes move to the same name at once.
/// </summary>
/// <remarks>
/// <c>File.Move(source, target, overwrite: false)</c> is not that on Linux: .NET checks that the
/// target is absent (<c>lstat</c>) and then calls <c>rename</c>, which replaces a file that appeared
/// in between. Two uploads of the same photo to the same class could both "succeed"; the second file
/// replaced the first, the second upload's row then lost to the first's, and deleting "its" file
/// left the first's row without one. On Unix the file is linked under the new name (<c>link</c>
/// fails when the name exists, atomically) and then unlinked from the old; on Windows the move itself
/// refuses an existing name. Where a file system has no hard links, the name is claimed with an
/// exclusive create and the file renamed over its own claim.
/// </remarks>
public static partial class ExclusiveMove
{
    /// <summary>
    /// Moves <paramref name="source"/> to <paramref name="target"/> when no file has that name, and
    /// returns true; returns false, leaving <paramref name="source"/> where it is, when one has.
    /// </summary>
    public static bool TryMove(string source, string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(target);
        if (OperatingSystem.IsWindows())
            return TryWindowsMove(source, target);
        if (link(source, target) == 0)
        {
            DeleteBestEffort(source);
            return true;
        }
        // EEXIST: the name is taken. Anything else (no hard links on this file system, a missing
        // source or folder, no permission) goes the portable way, which reports the real failures.
        return Marshal.GetLastPInvokeError() != EEXIST && TryClaimAndRename(source, target);
    }

    /// <summary>The old name of a file now linked under the new one: if it cannot go, the file keeps both, and the caller's spool clean-up tries again.</summary>
    static void DeleteBestEffort(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // See above.
        }
    }

    static bool TryWindowsMove(string source, string target)
    {
        try
        {
            File.Move(source, target, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(source) && Path.Exists(target))
        {
            return false;
        }
    }

    /// <summary>For file systems without hard links: an empty file claims the name (<c>O_EXCL</c>), and the file is renamed over it.</summary>
    internal static bool TryClaimAndRename(string source, string target)
    {
        try
        {
            // No lock on the claim: a reader opening it in that instant must not make the claim fail.
            File.OpenHandle(target, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete).Dispose();
        }
        catch (IOException) when (Path.Exists(target))
        {
            return false;
        }

        try
        {
            File.Move(source, target, overwrite: true);
            return true;
        }
        catch
        {
            // The source was missing or could not be moved: the claim is ours, and empty.
            // (If it cannot go, the start-up reconciliation files the empty leftover away; the move's own failure is the one to report.)
            DeleteBestEffort(target);
            throw;
        }
    }

    /// <summary>"File exists", the same number on Linux and macOS.</summary>
    const int EEXIST = 17;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existing, string created);
}
