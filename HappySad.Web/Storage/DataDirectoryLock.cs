using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace HappySad.Web.Storage;

/// <summary>
/// Who owns the data directory: the one process that may tidy it (reconcile, clean up), because
/// no other process is writing there. Operating-system locks, held from start-up to exit; the
/// kernel drops them when the process ends however it ends, so a killed app never leaves a stale
/// lock behind. Two of them:
/// <list type="bullet">
/// <item><c>.lock</c>, the owner's: only its holder tidies. A web app that starts while another
/// process holds it takes it over when that one lets go, and from then on keeps others from
/// tidying; it does not tidy itself, since by then it is writing there too.</item>
/// <item><c>.app.lock</c>, held by a web app on SQLite only: one such app per directory, since a
/// second would recover and train the first one's runs. Commands never take it, so a long
/// <c>train --record</c> does not keep the dashboard from starting.</item>
/// </list>
/// Each holder writes who it is beside its lock (<c>.owner</c>) for the others' messages only:
/// the lock, never that file, decides.
/// </summary>
public sealed class DataDirectoryLock(StoragePaths paths, TimeProvider clock) : IDisposable
{
    /// <summary>How often a web app that started beside another owner tries to take the directory over.</summary>
    public static readonly TimeSpan TakeOverPoll = TimeSpan.FromSeconds(2);

    readonly FileLock _owner = new(Path.Combine(paths.Root, ".lock"), clock);
    readonly FileLock _app = new(Path.Combine(paths.Root, ".app.lock"), clock);
    readonly CancellationTokenSource _stopping = new();

    public string LockFile => _owner.Path;

    /// <summary>Whether this process owns the directory.</summary>
    public bool IsHeld => _owner.IsHeld;

    /// <summary>Takes the owner's lock unless another process holds it; <paramref name="holder"/> then says who does, as far as it is known.</summary>
    /// <param name="role">What this process is, for another process's message: "the web app", "a command-line process".</param>
    public bool TryAcquire(string role, [NotNullWhen(false)] out string? holder) => _owner.TryTake(role, out holder);

    /// <summary>The one-app-per-SQLite-directory lock; false with who holds it when another app does.</summary>
    public bool TryClaimApp(string role, [NotNullWhen(false)] out string? holder) => _app.TryTake(role, out holder);

    /// <summary>
    /// Takes the owner's lock in the background as soon as its holder lets go, so that a process
    /// starting later finds the directory owned and tidies nothing of this one's.
    /// </summary>
    public void TakeOverWhenFree(string role, ILogger logger)
    {
        var stopping = _stopping.Token;
        _ = Task.Run(async () =>
        {
            try
            {
                while (!_owner.TryTake(role, out _))
                    await Task.Delay(TakeOverPoll, clock, stopping);
                logger.LogInformation("This process now owns the data directory {DataDirectory} (tidying waits for its next start)", paths.Root);
            }
            catch (OperationCanceledException)
            {
                // Stopped before the other owner let go.
            }
        }, stopping);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _owner.Dispose();
        _app.Dispose();
        _stopping.Dispose();
    }

    /// <summary>One exclusive lock file with its owner note.</summary>
    sealed class FileLock(string path, TimeProvider clock) : IDisposable
    {
        readonly Lock _gate = new();
        FileStream? _held;
        bool _closed;

        public string Path => path;
        string OwnerFile => path + ".owner";

        public bool IsHeld
        {
            get { lock (_gate) return _held is not null; }
        }

        public bool TryTake(string role, [NotNullWhen(false)] out string? holder)
        {
            lock (_gate)
            {
                holder = null;
                if (_held is not null)
                    return true;
                // A take-over still polling while the app stops must not take a lock nobody will release.
                if (_closed)
                {
                    holder = "nobody: this process is stopping";
                    return false;
                }
                try
                {
                    // FileShare.None is an exclusive flock on Unix and a sharing lock on Windows: a second opener fails at once.
                    _held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
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
                _closed = true;
            Release();
        }

        public void Release()
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
}

/// <summary>A second web app that trains runs itself (on SQLite, or on PostgreSQL without workers): it would recover and train the first one's runs.</summary>
public sealed class DataDirectoryInUseException(string directory, string holder, StorageProvider provider = StorageProvider.Sqlite)
    : Exception($"The data directory {directory} is in use by {holder}. " + (provider == StorageProvider.Sqlite
        ? "One app owns a SQLite data directory: stop that one first, or start this one with --data-dir pointing elsewhere."
        : "One web node trains runs itself: for more web nodes, set Workers:Mode=Hangfire on all of them and train on workers (README, \"Scale out\")."));
