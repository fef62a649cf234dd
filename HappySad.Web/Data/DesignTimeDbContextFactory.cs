using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace HappySad.Web.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the app.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<HappySadDbContext>
{
    public HappySadDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<HappySadDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
