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
/// change twice. Failures after the connection opened are not retried: SQLite already waits out a
/// busy database there (the connection's default timeout), and a write that failed is the caller's.
/// </summary>
internal sealed class SqliteOpenRetry(ExecutionStrategyDependencies dependencies)
    : ExecutionStrategy(dependencies, MaxRetries, TimeSpan.FromMilliseconds(200))
{
    const int MaxRetries = 3;

    /// <summary>Marks exceptions thrown while opening, which is the only place EF reports them from.</summary>
    public static readonly IInterceptor OpenFailures = new OpenFailureMarker();

    const string OpenFailedKey = "HappySad.SqliteOpenFailed";

    protected override bool ShouldRetryOn(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked } && exception.Data.Contains(OpenFailedKey);

    /// <summary>A few milliseconds, growing: what holds the handle is one statement, not a long transaction.</summary>
    protected override TimeSpan? GetNextDelay(Exception lastException) =>
        ExceptionsEncountered.Count <= MaxRetries ? TimeSpan.FromMilliseconds(10 * Math.Pow(4, ExceptionsEncountered.Count - 1)) : null;

    const int SqliteBusy = 5;
    const int SqliteLocked = 6;

    sealed class OpenFailureMarker : DbConnectionInterceptor
    {
        public override void ConnectionFailed(DbConnection connection, ConnectionErrorEventData eventData) =>
            eventData.Exception.Data[OpenFailedKey] = true;

        public override Task ConnectionFailedAsync(DbConnection connection, ConnectionErrorEventData eventData, CancellationToken cancellationToken = default)
        {
            eventData.Exception.Data[OpenFailedKey] = true;
            return Task.CompletedTask;
        }
    }
}
