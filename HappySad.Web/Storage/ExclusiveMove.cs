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
/// left the first's row without one. Here the name is claimed first with an exclusive create
/// (<c>O_CREAT | O_EXCL</c>, atomic on every file system we store on), and the file is then renamed
/// over its own claim.
/// </remarks>
public static class ExclusiveMove
{
    /// <summary>
    /// Moves <paramref name="source"/> to <paramref name="target"/> when no file has that name, and
    /// returns true; returns false, leaving <paramref name="source"/> where it is, when one has.
    /// </summary>
    public static bool TryMove(string source, string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(target);
        try
        {
            new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None).Dispose();
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
            File.Delete(target);
            throw;
        }
    }
}
