using HappySad.Tests.Support;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Web.Predictions;

namespace HappySad.Tests.Web.Predictions;

/// <summary>Model files imported into the catalogue (the Predict page's "Import model").</summary>
public sealed class ModelImportTests : IDisposable
{
    readonly HappySadAppFactory _app = new();
    readonly TempDirectory _files = new();

    public void Dispose()
    {
        _app.Dispose();
        _files.Dispose();
    }

    [Fact]
    public async Task ImportsOfOneNameAtOnceEachKeepAFileOfTheirOwn()
    {
        var catalog = _app.Service<ModelCatalog>();
        // Four different models, all uploaded as "faces.hsmodel" at the same moment.
        var models = Enumerable.Range(1, 4).Select(seed => File.ReadAllBytes(SaveModel($"model-{seed}.hsmodel", seed))).ToArray();

        var imported = await Task.WhenAll(models.Select(bytes => Task.Run(async () =>
        {
            using var content = new MemoryStream(bytes);
            return await catalog.ImportAsync("faces.hsmodel", content);
        })));

        Assert.Equal(4, imported.Select(m => m.Name).Distinct().Count());
        var files = imported.Select(m => Path.Combine(_app.DataDirectory, "models", m.Name)).ToList();
        // Each upload's bytes are in exactly one file: none replaced another's.
        Assert.Equal(models.Select(Convert.ToHexString).Order(), files.Select(f => Convert.ToHexString(File.ReadAllBytes(f))).Order());
        Assert.Equal(["faces-2.hsmodel", "faces-3.hsmodel", "faces-4.hsmodel", "faces.hsmodel"], Directory.GetFiles(Path.Combine(_app.DataDirectory, "models")).Select(Path.GetFileName).Order());
    }

    /// <summary>A file name the model list would not show (here one starting with "_") is imported under one it shows.</summary>
    [Theory]
    [InlineData("_best.hsmodel", "best.hsmodel")]
    [InlineData("__.hsmodel", "model.hsmodel")]
    [InlineData("-.my best_.hsmodel", "my-best.hsmodel")]
    public async Task AnImportedFileGetsANameTheListShows(string uploaded, string kept)
    {
        var catalog = _app.Service<ModelCatalog>();
        await using var content = File.OpenRead(SaveModel("m.hsmodel", 1));

        var imported = await catalog.ImportAsync(uploaded, content);

        Assert.Equal(kept, imported.Name);
        Assert.Equal([kept], (await catalog.ListAsync()).Select(m => m.Name));
        Assert.Equal([kept], Directory.GetFiles(Path.Combine(_app.DataDirectory, "models")).Select(Path.GetFileName));
    }

    string SaveModel(string file, int seed)
    {
        using var model = ModelArchitectures.Create(CompactCnn.ArchitectureName, seed: seed);
        var path = Path.Combine(_files.Path, file);
        ModelStore.Save(path, model, new ModelCard { Architecture = CompactCnn.ArchitectureName, ClassNames = ["happy", "sad"], Preprocessing = new Preprocessing { InputSize = 128 } });
        return path;
    }
}
