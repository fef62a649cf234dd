using System.IO.Compression;
using System.Net.Http.Json;
using HappySad.Tests.Support;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Web.Api;
using HappySad.Web.Predictions;
using HappySad.Web.Storage;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Persistence;

/// <summary>Model files written to mislead: each is refused with a reason that names no server path, and none breaks the model list.</summary>
public class HostileModelFileTests
{
    static readonly ModelCard Card = new() { Architecture = CompactCnn.ArchitectureName, ClassNames = ["happy", "sad"], Preprocessing = new() { InputSize = CompactCnn.InputSize } };

    static string SavedModel(TempDirectory temp, string name = "model.hsmodel")
    {
        var path = temp.File(name);
        using var model = ModelArchitectures.Create(CompactCnn.ArchitectureName, seed: 1);
        ModelStore.Save(path, model, Card);
        return path;
    }

    static void ReplaceEntry(string path, string entryName, byte[] bytes)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        zip.GetEntry(entryName)?.Delete();
        using var body = zip.CreateEntry(entryName).Open();
        body.Write(bytes);
    }

    static string CardJson(Func<string, string> edit)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(Card, ModelCard.JsonOptions);
        return edit(json);
    }

    public static TheoryData<string, string, string> Cards => new()
    {
        { "null class names", CardJson(j => j.Replace("[\n    \"happy\",\n    \"sad\"\n  ]", "null", StringComparison.Ordinal)), "exactly two classes" },
        { "one class", CardJson(j => j.Replace("\"happy\",", "", StringComparison.Ordinal)), "exactly two classes" },
        { "same names", CardJson(j => j.Replace("\"sad\"", "\"happy\"", StringComparison.Ordinal)), "the same" },
        { "unknown architecture", CardJson(j => j.Replace(CompactCnn.ArchitectureName, "resnet-9000", StringComparison.Ordinal)), "unknown architecture" },
        { "input size 100000", CardJson(j => j.Replace($"\"input_size\": {CompactCnn.InputSize}", "\"input_size\": 100000", StringComparison.Ordinal)), "input size 100000" },
        { "null preprocessing", CardJson(j => System.Text.RegularExpressions.Regex.Replace(j, "\"preprocessing\": \\{[^}]*\\}", "\"preprocessing\": null")), "preprocessing is missing" },
        { "raised hands looked for, not read", CardJson(j => j.Replace("\"layout\": \"nchw\"", "\"layout\": \"nchw\", \"face_detection\": {\"raised_hands\": {\"head_margin\": 0.25}}", StringComparison.Ordinal)), "does not read raised hands" },
        { "raised hands read, not looked for", CardJson(j => j.Replace(CompactCnn.ArchitectureName, FaceVerdictClassifier.RaisedHandsArchitectureName, StringComparison.Ordinal).Replace($"\"input_size\": {CompactCnn.InputSize}", "\"input_size\": 112", StringComparison.Ordinal)), "does not say how to find them" },
        { "raised hands over faces of every size", CardJson(j => j.Replace(CompactCnn.ArchitectureName, FaceVerdictClassifier.RaisedHandsArchitectureName, StringComparison.Ordinal).Replace($"\"input_size\": {CompactCnn.InputSize}", "\"input_size\": 112", StringComparison.Ordinal).Replace("\"layout\": \"nchw\"", "\"layout\": \"nchw\", \"face_detection\": {\"raised_hands\": {\"max_face_height\": 2}}", StringComparison.Ordinal)), "max_face_height 2 is not a share" },
        { "600 KB card", CardJson(j => j.Replace("{", "{\"padding\": \"" + new string('x', 600 * 1024) + "\",", StringComparison.Ordinal)), "over the 64 KB limit" },
    };

    [Theory]
    [MemberData(nameof(Cards))]
    public void MaliciousCardsAreRefusedWithAReason(string what, string json, string expected)
    {
        using var temp = new TempDirectory();
        var path = SavedModel(temp);
        ReplaceEntry(path, "model-card.json", System.Text.Encoding.UTF8.GetBytes(json));

        var e = Assert.Throws<ModelFormatException>(() => ModelStore.Load(path, CPU));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(temp.Path, e.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void WeightsWhoseSizeDoesNotFitTheArchitectureAreRefusedBeforeReading()
    {
        using var temp = new TempDirectory();
        var path = SavedModel(temp);
        ReplaceEntry(path, "weights.bin", new byte[2048]);

        var e = Assert.Throws<ModelFormatException>(() => ModelStore.Load(path, CPU));

        Assert.Contains("weights take", e.Message, StringComparison.Ordinal);
        using var intact = ModelStore.Load(SavedModel(temp, "intact.hsmodel"), CPU);
    }

    /// <summary>Weights of the right size that hold NaN (a diverged fit, a damaged file) would make every answer NaN: refused at loading.</summary>
    [Fact]
    public void WeightsThatAreNotAllNumbersAreRefused()
    {
        using var temp = new TempDirectory();
        var path = temp.File("nan.hsmodel");
        using (var model = ModelArchitectures.Create(CompactCnn.ArchitectureName, seed: 1))
        {
            using (no_grad())
                model.parameters().Last().fill_(double.NaN);
            Assert.NotNull(ModelStore.FirstNonFinite(model));
            ModelStore.Save(path, model, Card);
        }

        var e = Assert.Throws<ModelFormatException>(() => ModelStore.Load(path, CPU));

        Assert.StartsWith("its weights are not all numbers: ", e.Message, StringComparison.Ordinal);
        using var intact = ModelStore.Load(SavedModel(temp), CPU);
        Assert.Null(ModelStore.FirstNonFinite(intact.Module));
    }

    [Fact]
    public async Task ABadFileInTheModelsFolderIsListedAsUnusableAndRefusesToPredictWith400()
    {
        using var app = new HappySadAppFactory();
        using var client = app.CreateClient();
        var models = app.Service<StoragePaths>().ModelsRoot;
        Directory.CreateDirectory(models);
        using (var temp = new TempDirectory())
        {
            var path = SavedModel(temp);
            ReplaceEntry(path, "model-card.json", System.Text.Encoding.UTF8.GetBytes(Cards.First()[1].ToString()!));
            File.Copy(path, Path.Combine(models, "nulls.hsmodel"));
        }

        using var list = await client.GetAsync(new Uri("/api/models", UriKind.Relative));
        var listed = await list.Content.ReadFromJsonAsync<List<ModelInfo>>(WireJson.Options);
        using var content = Multipart.Files(("a.png", TestImages.Blocks(1)));
        using var predict = await client.PostAsync(new Uri("/api/models/file-nulls/predict", UriKind.Relative), content);
        var problem = await predict.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, list.StatusCode);
        var model = Assert.Single(listed!);
        Assert.Contains("exactly two classes", model.Unusable, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, predict.StatusCode);
        Assert.Contains("exactly two classes", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(app.DataDirectory, problem, StringComparison.Ordinal);
    }
}
