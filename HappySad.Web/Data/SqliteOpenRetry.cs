using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

namespace HappySad.Web.Data;

/// <summary>
/// Runs an operation again when its SQLite connection failed to open with "database is busy" or
/// "locked". Opening a pooled connection registers EF Core's SQL functions on it, and SQLite refuses
/// that while a statement is still running on the same handle: seen once in about fifteen full test
/// runs, as a 500 on a page load (the handle was in use elsewhere at that moment; we have not found
/// where). Nothing of the operation has run when opening fails, so running it again cannot apply a
/// change twice. Failures after the connection opened, closing included, are not retried: SQLite
/// already waits out a busy database there (the connection's default timeout), and a write that
/// failed is the caller's.
/// </summary>
internal sealed class SqliteOpenRetry(ExecutionStrategyDependencies dependencies)
    : ExecutionStrategy(dependencies, MaxRetries, MaxDelay)
{
    const int MaxRetries = 3;
    static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(160);
    const int SqliteBusy = 5;
    const int SqliteLocked = 6;
    const string OpenFailedKey = "HappySad.SqliteOpenFailed";

    /// <summary>Marks the exceptions of a failed open, and empties the pool that handed out the refused handle.</summary>
    public static readonly IInterceptor OpenFailures = new OpenFailureMarker();

    /// <summary>Only what <see cref="OpenFailures"/> marked: a busy or locked failure to open.</summary>
    protected override bool ShouldRetryOn(Exception exception) => exception.Data.Contains(OpenFailedKey);

    /// <summary>10, 40, 160 ms: what holds the handle is one statement, not a long transaction.</summary>
    protected override TimeSpan? GetNextDelay(Exception lastException) =>
        ExceptionsEncountered.Count <= MaxRetries ? TimeSpan.FromMilliseconds(10 * Math.Pow(4, ExceptionsEncountered.Count - 1)) : null;

    /// <summary>
    /// EF refuses a retrying strategy inside a transaction the caller began, since a retry would run
    /// outside it. This one only retries before its connection opened, and a connection in a
    /// transaction is open already, so it never retries there and need not refuse.
    /// </summary>
    protected override void OnFirstExecution() => ExceptionsEncountered.Clear();

    sealed class OpenFailureMarker : DbConnectionInterceptor
    {
        public override void ConnectionFailed(DbConnection connection, ConnectionErrorEventData eventData) =>
            Mark(connection, eventData.Exception);

        public override Task ConnectionFailedAsync(DbConnection connection, ConnectionErrorEventData eventData, CancellationToken cancellationToken = default)
        {
            Mark(connection, eventData.Exception);
            return Task.CompletedTask;
        }

        /// <summary>
        /// EF reports a failed close here too; a connection that failed to open is closed again, one
        /// that failed to close is still open. A failed open hands its handle back to the pool, which
        /// would give the same handle to the retry: the pool is emptied instead.
        /// </summary>
        static void Mark(DbConnection connection, Exception exception)
        {
            if (connection.State != ConnectionState.Closed || exception is not SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked })
                return;
            exception.Data[OpenFailedKey] = true;
            if (connection is SqliteConnection sqlite)
                SqliteConnection.ClearPool(sqlite);
        }
    }
}
