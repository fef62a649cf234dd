using System.Data.Common;
using HappySad.Tests.Support;
using HappySad.Web.Data;
using HappySad.Web.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace HappySad.Tests.Web.Data;

/// <summary>
/// The app's SQLite contexts run an operation again when its connection fails to open as busy, and
/// only then. The failure is made here by an interceptor that throws SQLite's own exception where
/// opening throws it; the race that made it for real (a pooled handle still running a statement) is
/// not reproduced.
/// </summary>
public sealed class SqliteOpenRetryTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("happysad-retry-").FullName;

    public SqliteOpenRetryTests()
    {
        using var context = TestDatabase.Sqlite.Open(_directory);
        context.Database.Migrate();
    }

    [Fact]
    public async Task AQueryWhoseConnectionFailedToOpenAsBusyRunsAgainAndAnswers()
    {
        var opens = new FailingOpens(failures: 2, errorCode: 5);
        await using var context = Open(opens);

        Assert.False(await context.Users.AnyAsync());
        Assert.Equal(3, opens.Attempts);
    }

    [Fact]
    public async Task ASaveWhoseConnectionFailedToOpenAsLockedIsWrittenOnce()
    {
        var opens = new FailingOpens(failures: 1, errorCode: 6);
        await using (var context = Open(opens))
        {
            context.DataSets.Add(new DataSet { Name = "retried", ClassNames = ["happy", "sad"] });
            await context.SaveChangesAsync();
        }
        await using var check = TestDatabase.Sqlite.Open(_directory);
        Assert.Equal(["retried"], await check.DataSets.Select(d => d.Name).ToListAsync());
        Assert.Equal(2, opens.Attempts);
    }

    [Fact]
    public void ASynchronousQueryIsRetriedToo()
    {
        var opens = new FailingOpens(failures: 1, errorCode: 5);
        using var context = Open(opens);

        Assert.False(context.Users.Any());
        Assert.Equal(2, opens.Attempts);
    }

    /// <summary>A save that committed and then failed to close must not be written again.</summary>
    [Fact]
    public async Task ASaveWhoseConnectionFailedToCloseAsBusyIsNotRetried()
    {
        var closes = new BusyCloses();
        await using (var context = Open(closes))
        {
            context.DataSets.Add(new DataSet { Name = "once", ClassNames = ["happy", "sad"] });
            await Assert.ThrowsAsync<SqliteException>(() => context.SaveChangesAsync());
        }
        await using var check = TestDatabase.Sqlite.Open(_directory);
        Assert.Equal(["once"], await check.DataSets.Select(d => d.Name).ToListAsync());
        Assert.Equal(1, closes.Attempts);
    }

    [Fact]
    public async Task ItGivesUpAfterThreeRetries()
    {
        var opens = new FailingOpens(failures: 10, errorCode: 5);
        await using var context = Open(opens);

        var failure = await Assert.ThrowsAsync<RetryLimitExceededException>(() => context.Users.AnyAsync());
        Assert.IsType<SqliteException>(failure.InnerException);
        Assert.Equal(4, opens.Attempts);
    }

    [Fact]
    public async Task OtherFailuresToOpenAndBusyStatementsAreNotRetried()
    {
        var notBusy = new FailingOpens(failures: 1, errorCode: 14); // SQLITE_CANTOPEN
        await using (var context = Open(notBusy))
            await Assert.ThrowsAsync<SqliteException>(() => context.Users.AnyAsync());
        Assert.Equal(1, notBusy.Attempts);

        var statements = new BusyStatements();
        await using (var context = Open(statements))
            await Assert.ThrowsAsync<SqliteException>(() => context.Users.AnyAsync());
        Assert.Equal(1, statements.Attempts);
    }

    HappySadDbContext Open(IInterceptor failing)
    {
        var storage = Options.Create(new StorageOptions { DataDirectory = _directory });
        var options = HappySadDbContextFactory.Configure(new DbContextOptionsBuilder<HappySadDbContext>(), storage.Value, new StoragePaths(storage))
            .AddInterceptors(failing);
        return new HappySadDbContext((DbContextOptions<HappySadDbContext>)options.Options);
    }

    /// <summary>Fails the first <paramref name="failures"/> opens with SQLite's error <paramref name="errorCode"/>.</summary>
    sealed class FailingOpens(int failures, int errorCode) : DbConnectionInterceptor
    {
        public int Attempts;

        public override InterceptionResult ConnectionOpening(DbConnection connection, ConnectionEventData eventData, InterceptionResult result) =>
            ++Attempts <= failures ? throw new SqliteException($"SQLite Error {errorCode}", errorCode) : result;

        public override ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(ConnectionOpening(connection, eventData, result));
    }

    /// <summary>Fails every close as busy, before the connection closes.</summary>
    sealed class BusyCloses : DbConnectionInterceptor
    {
        public int Attempts;

        public override ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
        {
            Attempts++;
            throw new SqliteException("SQLite Error 5: 'database is locked'", 5);
        }
    }

    /// <summary>Fails every query as busy after its connection opened.</summary>
    sealed class BusyStatements : DbCommandInterceptor
    {
        public int Attempts;

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Attempts++;
            throw new SqliteException("SQLite Error 5: 'database is locked'", 5);
        }
    }

    public void Dispose()
    {
        using (var context = TestDatabase.Sqlite.Open(_directory))
            SqliteConnection.ClearPool((SqliteConnection)context.Database.GetDbConnection());
        Directory.Delete(_directory, recursive: true);
    }
}
