using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Data;

/// <summary>The app's data and its accounts (ASP.NET Core Identity's users and roles) in one database.</summary>
public sealed class HappySadDbContext(DbContextOptions<HappySadDbContext> options) : IdentityDbContext<IdentityUser, IdentityRole, string>(options)
{
    public DbSet<DataSet> DataSets => Set<DataSet>();
    public DbSet<Photo> Photos => Set<Photo>();
    public DbSet<TrainingRun> TrainingRuns => Set<TrainingRun>();
    public DbSet<RunEpoch> RunEpochs => Set<RunEpoch>();
    public DbSet<RunImage> RunImages => Set<RunImage>();
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
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToUtcTicksConverter>();
    }
}

/// <summary>Stores a <see cref="DateTimeOffset"/> as UTC ticks.</summary>
public sealed class DateTimeOffsetToUtcTicksConverter() : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset, long>(
    value => value.UtcTicks,
    ticks => new DateTimeOffset(ticks, TimeSpan.Zero));
