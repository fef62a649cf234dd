namespace HappySad.Tests.Support;

/// <summary>The notebook's photos in ../shared/datasets/happy-sad, found from the test's folder, never copied into the repo.</summary>
internal static class SharedPhotos
{
    public static string Root { get; } = Find();

    /// <summary>
    /// A temporary data set of the first <paramref name="perClass"/> photos of each class, as
    /// symbolic links, so tests can train on a small subset quickly.
    /// </summary>
    public static TempDirectory Subset(int perClass)
    {
        var temp = new TempDirectory();
        foreach (var className in new[] { "happy", "sad" })
        {
            var target = Directory.CreateDirectory(Path.Combine(temp.Path, className)).FullName;
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, className)).Order(StringComparer.Ordinal).Take(perClass))
                File.CreateSymbolicLink(Path.Combine(target, Path.GetFileName(file)), file);
        }
        return temp;
    }

    static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "shared", "datasets", "happy-sad");
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new DirectoryNotFoundException("../shared/datasets/happy-sad was not found above " + AppContext.BaseDirectory);
    }
}

internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("happysad-test-").FullName;

    public string File(string relative)
    {
        var path = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
