using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace HappySad.Web.Storage;

/// <summary>
/// Who owns the data directory: the one process that may tidy it (reconcile, clean up), because
/// no other process is writing there. An operating-system lock on <c>.lock</c>, held from start-up
/// to exit; the kernel drops it when the process ends however it ends, so a killed app never
/// leaves a stale lock behind. The holder writes who it is to <c>.lock.owner</c> for the others'
/// messages only: the lock, never that file, decides.
/// </summary>
public sealed class DataDirectoryLock(StoragePaths paths, TimeProvider clock) : IDisposable
{
    readonly Lock _gate = new();
    FileStream? _held;

    public string LockFile => Path.Combine(paths.Root, ".lock");
    string OwnerFile => LockFile + ".owner";

    /// <summary>Whether this process owns the directory.</summary>
    public bool IsHeld
    {
        get { lock (_gate) return _held is not null; }
    }

    /// <summary>Takes the lock unless another process holds it; <paramref name="holder"/> then says who does, as far as it is known.</summary>
    /// <param name="role">What this process is, for another process's message: "the web app", "a command-line process".</param>
    public bool TryAcquire(string role, [NotNullWhen(false)] out string? holder)
    {
        lock (_gate)
        {
            holder = null;
            if (_held is not null)
                return true;
            try
            {
                // FileShare.None is an exclusive flock on Unix and a sharing lock on Windows: a second opener fails at once.
                _held = new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                holder = ReadOwner();
                return false;
            }
            File.WriteAllText(OwnerFile, string.Create(CultureInfo.InvariantCulture,
                $"{role}, process {Environment.ProcessId} on {Environment.MachineName}, since {clock.GetUtcNow():yyyy-MM-dd HH:mm:ss} UTC"));
            return true;
        }
    }

    string ReadOwner()
    {
        try
        {
            return File.Exists(OwnerFile) ? File.ReadAllText(OwnerFile).Trim() : "another process";
        }
        catch (IOException)
        {
            return "another process";
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_held is null)
                return;
            // The owner note goes first, while the lock still keeps the next owner from writing its own.
            File.Delete(OwnerFile);
            _held.Dispose();
            _held = null;
        }
    }
}

/// <summary>A second web app on a SQLite data directory: it would recover and train the first one's runs.</summary>
public sealed class DataDirectoryInUseException(string directory, string holder)
    : Exception($"The data directory {directory} is in use by {holder}. One app owns a SQLite data directory: stop that one first, or start this one with --data-dir pointing elsewhere.");
