using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace HappySad.Web.Data;

/// <summary>
/// Lets <c>dotnet ef migrations add NAME --context HappySadDbContext</c> build the SQLite model without starting the app.
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<HappySadDbContext>
{
    public HappySadDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<HappySadDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

/// <summary>
/// Lets <c>dotnet ef migrations add NAME --context PostgresDbContext</c> build the PostgreSQL model;
/// adding a migration never connects, so the connection string only has to parse.
/// </summary>
internal sealed class DesignTimePostgresDbContextFactory : IDesignTimeDbContextFactory<PostgresDbContext>
{
    public PostgresDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<HappySadDbContext>().UseNpgsql("Host=localhost;Database=happysad").Options);
}
