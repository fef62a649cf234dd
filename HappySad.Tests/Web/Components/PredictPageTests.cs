using System.Text.Json;
using Bunit;
using HappySad.Tests.Support;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Web.Components.Pages.Predict;
using HappySad.Web.Components.Pages.Predict.Components;
using HappySad.Web.Predictions;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace HappySad.Tests.Web.Components;

/// <summary>
/// The Predict page rendered by bUnit over the app's model catalogue; the browser's part (posting
/// photos, answering with verdicts) is played by calling the drop zone's JavaScript-invokable
/// methods with the JSON its browser module sends.
/// </summary>
public sealed class PredictPageTests : IAsyncLifetime
{
    readonly PageTestHost _host = new(typeof(ModelCatalog));

    HappySadAppFactory _app => _host.App;

    BunitContext _bunit => _host.Bunit;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task ChoosingAnotherModelClearsTheCardsAndSaysSo()
    {
        SaveModel("faces.hsmodel", ["happy", "sad"]);
        SaveModel("smiles.hsmodel", ["smile", "frown"]);
        var models = await _app.Service<ModelCatalog>().ListAsync();
        var faces = models.Single(m => m.Name == "faces.hsmodel").Id;
        var smiles = models.Single(m => m.Name == "smiles.hsmodel").Id;
        var page = _bunit.Render<PredictPage>();
        page.WaitForState(() => page.FindAll("[data-testid=predict-drop-zone]").Count == 1);

        await ChooseModelAsync(page, faces);
        await PredictAsync(page, """{ "name": "portrait.jpg", "preview": "blob:one", "probabilities": { "happy": 0.8, "sad": 0.2 }, "milliseconds": 12 }""", faces, ["happy", "sad"]);
        Assert.Equal("faces.hsmodel · threshold 0.50", page.Find("[data-testid=prediction-model]").TextContent);
        await ChooseModelAsync(page, smiles);

        Assert.Empty(page.FindAll("[data-testid=prediction-card]"));
        Assert.Contains("Now predicting with smiles.hsmodel: the 1 verdict from faces.hsmodel was cleared", page.Find("[data-testid=model-switched]").TextContent, StringComparison.Ordinal);
        await PredictAsync(page, """{ "name": "crowd.jpg", "preview": "blob:two", "probabilities": { "smile": 0.3, "frown": 0.7 }, "milliseconds": 8 }""", smiles, ["smile", "frown"]);

        Assert.Equal(["frown"], page.FindAll("[data-testid=prediction-label]").Select(e => e.TextContent));
        Assert.Equal("1", page.Find("[data-testid=summary-frown]").TextContent);
        Assert.Equal("0", page.Find("[data-testid=summary-smile]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=summary-happy]"));
    }

    /// <summary>A run page's "Predict with this model" links here with <c>?model=</c>: that model is chosen, not the first listed.</summary>
    [Fact]
    public async Task TheModelNamedInTheAddressIsChosen()
    {
        SaveModel("faces.hsmodel", ["happy", "sad"], inputSize: 128);
        SaveModel("smiles.hsmodel", ["smile", "frown"], inputSize: 128);
        var models = await _app.Service<ModelCatalog>().ListAsync();
        var asked = models[^1];
        Assert.NotEqual(models[0].Id, asked.Id);
        Assert.All(models, m => Assert.Null(m.Unusable));
        _bunit.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo($"/predict?model={Uri.EscapeDataString(asked.Id)}");

        var page = _bunit.Render<PredictPage>();
        page.WaitForState(() => page.FindAll("[data-testid=predict-drop-zone]").Count == 1);

        Assert.Equal($"/api/models/{Uri.EscapeDataString(asked.Id)}/predict", page.FindComponent<PredictDropZone>().Instance.PredictUrl);
        Assert.Contains($"Threshold for {asked.ClassNames[1]}", page.Markup, StringComparison.Ordinal);
    }

    /// <summary>A link to a model that is gone, or cannot be used, says so and names the model chosen instead.</summary>
    [Fact]
    public async Task AModelTheAddressNamesThatIsGoneOrUnusableIsReportedNotSilentlyReplaced()
    {
        SaveModel("faces.hsmodel", ["happy", "sad"], inputSize: 128);
        SaveModel("broken.hsmodel", ["happy", "sad"]);
        var models = await _app.Service<ModelCatalog>().ListAsync();
        var (faces, broken) = (models.Single(m => m.Name == "faces.hsmodel"), models.Single(m => m.Name == "broken.hsmodel"));
        Assert.NotNull(broken.Unusable);
        var navigation = _bunit.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();

        navigation.NavigateTo("/predict?model=run-4040");
        var gone = _bunit.Render<PredictPage>();
        gone.WaitForState(() => gone.FindAll("[data-testid=predict-drop-zone]").Count == 1);
        Assert.Equal("There is no model \"run-4040\" (it may have been deleted, or the link is mistyped). Predicting with faces.hsmodel instead.",
            gone.Find("[data-testid=model-not-found]").TextContent.Trim());
        Assert.Equal($"/api/models/{Uri.EscapeDataString(faces.Id)}/predict", gone.FindComponent<PredictDropZone>().Instance.PredictUrl);

        navigation.NavigateTo($"/predict?model={Uri.EscapeDataString(broken.Id)}");
        var unusable = _bunit.Render<PredictPage>();
        unusable.WaitForState(() => unusable.FindAll("[data-testid=predict-drop-zone]").Count == 1);
        Assert.StartsWith("broken.hsmodel cannot be used: ", unusable.Find("[data-testid=model-not-found]").TextContent.Trim(), StringComparison.Ordinal);
        Assert.EndsWith(". Predicting with faces.hsmodel instead.", unusable.Find("[data-testid=model-not-found]").TextContent.Trim(), StringComparison.Ordinal);

        navigation.NavigateTo($"/predict?model={Uri.EscapeDataString(faces.Id)}");
        var found = _bunit.Render<PredictPage>();
        found.WaitForState(() => found.FindAll("[data-testid=predict-drop-zone]").Count == 1);
        Assert.Empty(found.FindAll("[data-testid=model-not-found]"));
    }

    [Fact]
    public async Task TheCardShowsItsLabelsOwnProbabilityAndTheCsvNamesModelAndThreshold()
    {
        SaveModel("faces.hsmodel", ["happy", "sad"]);
        var faces = (await _app.Service<ModelCatalog>().ListAsync()).Single().Id;
        var page = _bunit.Render<PredictPage>();
        page.WaitForState(() => page.FindAll("[data-testid=predict-drop-zone]").Count == 1);
        await PredictAsync(page, """{ "name": "portrait.jpg", "preview": "blob:one", "probabilities": { "happy": 0.18, "sad": 0.82 }, "milliseconds": 12 }""", faces, ["happy", "sad"]);
        Assert.Equal("sad", page.Find("[data-testid=prediction-label]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=prediction-threshold-note]"));

        var slider = page.FindComponent<MudSlider<double>>();
        await page.InvokeAsync(() => slider.Instance.ValueChanged.InvokeAsync(0.9));

        Assert.Equal("happy", page.Find("[data-testid=prediction-label]").TextContent);
        Assert.StartsWith("happy 18.0", page.Find("[data-testid=prediction-probability]").TextContent, StringComparison.Ordinal);
        Assert.Equal("p(sad) 0.82 below threshold 0.90", page.Find("[data-testid=prediction-threshold-note]").TextContent);
        Assert.Equal("faces.hsmodel · threshold 0.90", page.Find("[data-testid=prediction-model]").TextContent);

        var module = _bunit.JSInterop.SetupModule("./Components/Pages/Predict/PredictPage.razor.js");
        await page.Find("[data-testid=download-csv]").ClickAsync(new());
        var csv = ((string)module.Invocations["download"].Single().Arguments[1]!).ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Equal([
            "file,model,threshold,label,p_happy,p_sad,milliseconds,error",
            "portrait.jpg,faces.hsmodel,0.90,happy,0.18,0.82,12.0,",
        ], csv);
    }

    [Fact]
    public async Task AFailedImportSaysWhyAndLeavesNoChipNamingTheFile()
    {
        var page = _bunit.Render<PredictPage>();
        page.WaitForState(() => page.FindAll("[data-testid=predict-drop-zone]").Count == 1);

        // MudFileUpload keeps a spare input hidden with d-none; the other one is what the button opens.
        var input = page.FindComponents<InputFile>().Single(i => !i.Find("input").ClassList.Contains("d-none"));
        input.UploadFiles(InputFileContent.CreateFromText("not a model", "broken.hsmodel"));

        var snackbar = _bunit.Services.GetRequiredService<ISnackbar>();
        page.WaitForAssertion(() => Assert.StartsWith("Not imported: ", Assert.Single(snackbar.ShownSnackbars).Message, StringComparison.Ordinal));
        Assert.DoesNotContain("broken.hsmodel", page.Markup, StringComparison.Ordinal);
        Assert.Empty(page.FindAll(".mud-file-upload .mud-chip"));
        Assert.Empty(await _app.Service<ModelCatalog>().ListAsync());
        Assert.False(page.Find("[data-testid=import-model]").HasAttribute("disabled"));
    }

    /// <summary>A compact CNN's file; without the input size it takes (128) the catalog lists it as unusable.</summary>
    void SaveModel(string file, string[] classNames, int inputSize = 256)
    {
        using var model = ModelArchitectures.Create(CompactCnn.ArchitectureName, seed: 1);
        ModelStore.Save(Path.Combine(_app.DataDirectory, "models", file), model, new ModelCard { Architecture = CompactCnn.ArchitectureName, ClassNames = classNames, Preprocessing = new Preprocessing { InputSize = inputSize } });
    }

    static Task ChooseModelAsync(IRenderedComponent<PredictPage> page, string modelId)
    {
        var select = page.FindComponent<MudSelect<string>>();
        return page.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(modelId));
    }

    /// <summary>The CSV lists photos in the order they were sent, and a name a spreadsheet would run as a formula is written as text.</summary>
    [Fact]
    public async Task TheCsvKeepsTheOrderPhotosWereSentInAndWritesFormulasAsText()
    {
        SaveModel("faces.hsmodel", ["happy", "sad"]);
        var faces = (await _app.Service<ModelCatalog>().ListAsync()).Single().Id;
        var page = _bunit.Render<PredictPage>();
        page.WaitForState(() => page.FindAll("[data-testid=predict-drop-zone]").Count == 1);
        await PredictAsync(page, faces, ["happy", "sad"],
            """{ "name": "1.jpg", "probabilities": { "happy": 0.9, "sad": 0.1 }, "milliseconds": 5 }""",
            """{ "name": "=HYPERLINK(\"http://x\").jpg", "probabilities": { "happy": 0.2, "sad": 0.8 }, "milliseconds": 6 }""");
        await PredictAsync(page, faces, ["happy", "sad"], """{ "name": "3.jpg", "error": "not an image", "milliseconds": 1 }""");

        var module = _bunit.JSInterop.SetupModule("./Components/Pages/Predict/PredictPage.razor.js");
        await page.Find("[data-testid=download-csv]").ClickAsync(new());
        var csv = ((string)module.Invocations["download"].Single().Arguments[1]!).ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Equal([
            "file,model,threshold,label,p_happy,p_sad,milliseconds,error",
            "1.jpg,faces.hsmodel,0.50,happy,0.9,0.1,5.0,",
            "\"'=HYPERLINK(\"\"http://x\"\").jpg\",faces.hsmodel,0.50,sad,0.2,0.8,6.0,",
            "3.jpg,faces.hsmodel,0.50,,,,1.0,not an image",
        ], csv);
    }

    static Task PredictAsync(IRenderedComponent<PredictPage> page, string verdict, string modelId, string[] classNames) =>
        PredictAsync(page, modelId, classNames, verdict);

    /// <summary>What the drop zone's module does for photos: start, one batch of verdicts (as the API answered, with the preview added), finish.</summary>
    static async Task PredictAsync(IRenderedComponent<PredictPage> page, string modelId, string[] classNames, params string[] verdicts)
    {
        var dropZone = page.FindComponent<PredictDropZone>().Instance;
        var cards = JsonSerializer.SerializeToElement(verdicts.Select(verdict =>
        {
            using var json = JsonDocument.Parse(verdict);
            var sent = json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object)p.Value.Clone());
            sent["model"] = modelId;
            sent["class_names"] = classNames;
            return sent;
        }).ToArray());
        await page.InvokeAsync(() => dropZone.OnPredictStarted(verdicts.Length));
        await page.InvokeAsync(() => dropZone.ReceiveVerdictsAsync(cards));
        await page.InvokeAsync(() => dropZone.OnPredictFinished());
    }
}
