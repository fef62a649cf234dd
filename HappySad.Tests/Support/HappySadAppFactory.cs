using HappySad.Web.Data;
using HappySad.Web.Services;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HappySad.Tests.Support;

/// <summary>The whole app in memory over a temporary data directory, deleted afterwards.</summary>
internal sealed class HappySadAppFactory(IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Program>
{
    readonly TempDirectory _data = new();

    public string DataDirectory => _data.Path;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("StorageOptions:DataDirectory", _data.Path);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            builder.UseSetting(key, value);
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    public async Task<int> CreateDataSetAsync(string name = "photos") =>
        (await Service<DataSetService>().CreateAsync(name)).Id;

    /// <summary>Every photo row has its file where the row says, and every photo file has a row.</summary>
    public async Task AssertFilesAndRowsAgreeAsync()
    {
        var paths = Service<StoragePaths>();
        await using var context = await Service<IDbContextFactory<HappySadDbContext>>().CreateDbContextAsync();
        var expected = (await context.Photos.ToListAsync()).Select(paths.PhotoFile).Order(StringComparer.Ordinal).ToList();
        var actual = Directory.Exists(paths.DataSetsRoot)
            ? Directory.EnumerateFiles(paths.DataSetsRoot, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Where(f => !f.Contains("/.thumbs/", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).ToList()
            : [];
        Assert.Equal(expected, actual);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
            _data.Dispose();
    }
}
