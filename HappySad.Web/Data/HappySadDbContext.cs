using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Data;

/// <summary>
/// The app's data and its accounts (ASP.NET Core Identity's users and roles) in one database: the one
/// context the app's code uses, whichever the provider. Its own migrations are SQLite's;
/// <see cref="PostgresDbContext"/> only names PostgreSQL's, and the context factory hands it out
/// (as a <see cref="HappySadDbContext"/>) when the app runs on PostgreSQL.
/// </summary>
public class HappySadDbContext(DbContextOptions<HappySadDbContext> options) : IdentityDbContext<IdentityUser, IdentityRole, string>(options)
{
    public DbSet<DataSet> DataSets => Set<DataSet>();
    public DbSet<Photo> Photos => Set<Photo>();
    public DbSet<TrainingRun> TrainingRuns => Set<TrainingRun>();
    public DbSet<RunEpoch> RunEpochs => Set<RunEpoch>();
    public DbSet<RunImage> RunImages => Set<RunImage>();
    public DbSet<RunAttempt> RunAttempts => Set<RunAttempt>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(HappySadDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // SQLite cannot order or compare DateTimeOffset columns; UTC ticks sort and compare correctly.
        // PostgreSQL stores them natively as timestamptz (the app only ever writes UTC offsets).
        if (Database.IsSqlite())
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToUtcTicksConverter>();
    }
}

/// <summary>
/// The same model on PostgreSQL. A type of its own only because EF Core finds a context's migrations
/// by its type: this one's live in <c>Data/Migrations/Postgres</c>, next to SQLite's.
/// </summary>
public sealed class PostgresDbContext(DbContextOptions<HappySadDbContext> options) : HappySadDbContext(options);

/// <summary>Stores a <see cref="DateTimeOffset"/> as UTC ticks.</summary>
public sealed class DateTimeOffsetToUtcTicksConverter() : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset, long>(
    value => value.UtcTicks,
    ticks => new DateTimeOffset(ticks, TimeSpan.Zero));
