using HappySad.Tests.Support;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>The Predict page in Chromium: two photos in, two labelled cards out, relabelled by the threshold.</summary>
[Collection(EndToEndTests.Name)]
public sealed class PredictEndToEndTests
{
    [Fact]
    public async Task TwoPhotosGetLabelledCardsAndTheThresholdRelabelsThem()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        // A model file copied into the data directory's models/ folder is listed on the page.
        SaveUntrained(app, SeedCnn.ArchitectureName, "seeded.hsmodel");
        await using var browser = await Browser.LaunchAsync();
        var page = await OpenAsync(browser, app);

        try
        {
            await page.GotoAsync("/predict");
            await Assertions.Expect(page.GetByTestId("model-select")).ToContainTextAsync("seeded.hsmodel");
            await Browser.ChooseFilesAsync(page.GetByTestId("predict-file-input"), [
                Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg"),
                Path.Combine(SharedPhotos.Root, "sad", "0x0.jpg"),
            ]);
            var cards = page.GetByTestId("prediction-card");
            await Assertions.Expect(cards).ToHaveCountAsync(2);
            await Assertions.Expect(cards.GetByTestId("prediction-probability").First).ToContainTextAsync(" ms");
            await Assertions.Expect(cards.Locator("img")).ToHaveCountAsync(2);
            await Browser.ScreenshotAsync(page, "predict-01-cards");

            // The threshold is for 'sad': near 0 everything is sad, near 1 everything is happy.
            var slider = page.Locator("input[type=range]");
            await slider.FillAsync("0.01");
            await Assertions.Expect(page.GetByTestId("threshold-value")).ToHaveTextAsync("0.01");
            await Assertions.Expect(page.GetByTestId("prediction-label")).ToHaveTextAsync(["sad", "sad"]);
            await Assertions.Expect(page.GetByTestId("summary-sad")).ToHaveTextAsync("2");
            await slider.FillAsync("0.99");
            await Assertions.Expect(page.GetByTestId("prediction-label")).ToHaveTextAsync(["happy", "happy"]);
            await Assertions.Expect(page.GetByTestId("summary-happy")).ToHaveTextAsync("2");
            await Browser.ScreenshotAsync(page, "predict-02-threshold");

            // A bad file gets its reason on its own card and the others stay.
            using var bad = new TempDirectory();
            var text = bad.File("notes.jpg");
            await File.WriteAllTextAsync(text, "not a photo");
            await Browser.ChooseFilesAsync(page.GetByTestId("predict-file-input"), [text]);
            await Assertions.Expect(cards).ToHaveCountAsync(3);
            await Assertions.Expect(page.GetByTestId("prediction-error")).ToHaveTextAsync("file is text, not an image");
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "predict-failure");
            throw new InvalidOperationException($"{e.Message}\nScreenshots in {Browser.ArtifactsDirectory}. App log:\n{app.Log}", e);
        }
    }

    [Fact]
    public async Task PreviewsAreFreedWhenTheCardsAreClearedAndWhenThePageIsLeft()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        SaveUntrained(app, CompactCnn.ArchitectureName, "compact.hsmodel");
        await using var browser = await Browser.LaunchAsync();
        var page = await OpenAsync(browser, app);
        string[] photos = [Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg"), Path.Combine(SharedPhotos.Root, "sad", "0x0.jpg")];

        try
        {
            await page.GotoAsync("/predict");
            await Assertions.Expect(page.GetByTestId("model-select")).ToContainTextAsync("compact.hsmodel");
            var cards = page.GetByTestId("prediction-card");
            await Browser.ChooseFilesAsync(page.GetByTestId("predict-file-input"), photos);
            await Assertions.Expect(cards.Locator("img")).ToHaveCountAsync(2);
            var cleared = await PreviewsAsync(page);
            Assert.False(await AllRevokedAsync(page, cleared, waitMilliseconds: 0));

            await page.GetByTestId("clear-predictions").ClickAsync();
            await Assertions.Expect(cards).ToHaveCountAsync(0);
            Assert.True(await AllRevokedAsync(page, cleared), "the previews of cleared cards are still held");

            await Browser.ChooseFilesAsync(page.GetByTestId("predict-file-input"), photos[..1]);
            await Assertions.Expect(cards.Locator("img")).ToHaveCountAsync(1);
            var left = await PreviewsAsync(page);
            Assert.False(await AllRevokedAsync(page, left, waitMilliseconds: 0));
            // Leaving through the menu keeps the document (and its blob URLs) but disposes the page.
            await page.GetByRole(AriaRole.Link, new() { Name = "Home", Exact = true }).ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(app.BaseAddress.ToString());
            Assert.True(await AllRevokedAsync(page, left), "the previews are still held after leaving the page");
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "predict-previews-failure");
            throw new InvalidOperationException($"{e.Message}\nScreenshots in {Browser.ArtifactsDirectory}. App log:\n{app.Log}", e);
        }
    }

    /// <summary>
    /// A request refused part way (here: over the server's images per request) answers for the photos it
    /// kept by position, so photos of one name from different folders each keep their own card and the
    /// refused one gets the reason.
    /// </summary>
    [Fact]
    public async Task ARequestRefusedPartWayGivesEachPhotoOfOneNameItsOwnCard()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync(environment: new Dictionary<string, string> { ["PredictionOptions__MaxFilesPerRequest"] = "2" });
        SaveUntrained(app, CompactCnn.ArchitectureName, "compact.hsmodel");
        using var photos = new TempDirectory();
        var folder = Path.Combine(photos.Path, "shoot");
        foreach (var (day, source) in new[] { ("monday", "happy/05-12-21-happy-people.jpg"), ("tuesday", "sad/0x0.jpg"), ("wednesday", "happy/05-12-21-happy-people.jpg") })
        {
            Directory.CreateDirectory(Path.Combine(folder, day));
            File.Copy(Path.Combine(SharedPhotos.Root, source), Path.Combine(folder, day, "photo.jpg"));
        }
        await using var browser = await Browser.LaunchAsync();
        var page = await OpenAsync(browser, app);

        try
        {
            await page.GotoAsync("/predict");
            await Assertions.Expect(page.GetByTestId("model-select")).ToContainTextAsync("compact.hsmodel");
            await Browser.ChooseFilesAsync(page.GetByTestId("predict-folder-input"), [folder]);
            var cards = page.GetByTestId("prediction-card");
            await Assertions.Expect(cards).ToHaveCountAsync(3);
            string[] names = ["shoot/monday/photo.jpg", "shoot/tuesday/photo.jpg", "shoot/wednesday/photo.jpg"];
            var shown = await cards.Locator(".predict-name:not([data-testid])").AllTextContentsAsync();
            Assert.Equal(names, shown.Order(StringComparer.Ordinal));
            // Which photo is third depends on the order the browser lists the folder in.
            var refused = cards.Filter(new() { Has = page.GetByTestId("prediction-error") });
            await Assertions.Expect(refused).ToHaveCountAsync(1);
            await Assertions.Expect(refused.GetByTestId("prediction-error")).ToHaveTextAsync("at most 2 images per request");
            await Assertions.Expect(cards.Locator("img")).ToHaveCountAsync(2);
            await Assertions.Expect(cards.GetByTestId("prediction-label")).ToHaveCountAsync(2);
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "predict-refused-failure");
            throw new InvalidOperationException($"{e.Message}\nScreenshots in {Browser.ArtifactsDirectory}. App log:\n{app.Log}", e);
        }
    }

    static async Task<string[]> PreviewsAsync(IPage page)
    {
        var urls = await page.GetByTestId("prediction-card").Locator("img").EvaluateAllAsync<string[]>("images => images.map(i => i.src)");
        Assert.All(urls, url => Assert.StartsWith("blob:", url, StringComparison.Ordinal));
        return urls;
    }

    /// <summary>Whether every URL stops loading (a revoked blob URL fails to fetch) within the wait, checked in the page.</summary>
    static Task<bool> AllRevokedAsync(IPage page, string[] urls, int waitMilliseconds = 10_000) =>
        page.EvaluateAsync<bool>("""
            async ([urls, wait]) => {
                const revoked = url => fetch(url).then(() => false, () => true);
                const deadline = Date.now() + wait;
                for (;;) {
                    if ((await Promise.all(urls.map(revoked))).every(Boolean)) return true;
                    if (Date.now() >= deadline) return false;
                    await new Promise(resolve => setTimeout(resolve, 50));
                }
            }
            """, new object[] { urls, waitMilliseconds });

    [Fact]
    public async Task AFaceModelShowsTheFaceItLookedAt()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        // The best preset's model untrained, real pretrained face network: what is checked is the
        // preparation, and that a verdict with no opinion (50%) is shown as low-confidence.
        using (var model = ModelArchitectures.Create(FaceVerdictClassifier.ArchitectureName, seed: 3))
        {
            ModelStore.Save(Path.Combine(app.DataDirectory, "models", "faces.hsmodel"), model, new ModelCard
            {
                Architecture = FaceVerdictClassifier.ArchitectureName,
                ClassNames = ["happy", "sad"],
                Preprocessing = new Preprocessing
                {
                    InputSize = FaceVerdictClassifier.InputSize,
                    Crop = HappySad.Training.Data.CropMode.FaceAndWhole,
                    FaceDetection = HappySad.Training.Faces.FaceDetection.Default,
                },
            });
        }
        await using var browser = await Browser.LaunchAsync();
        var page = await OpenAsync(browser, app);

        try
        {
            await page.GotoAsync("/predict");
            await Assertions.Expect(page.GetByTestId("model-select")).ToContainTextAsync("faces.hsmodel");
            using var temp = new TempDirectory();
            var noFace = temp.File("pattern.png");
            await File.WriteAllBytesAsync(noFace, TestImages.Quadrants(300));
            await Browser.ChooseFilesAsync(page.GetByTestId("predict-file-input"), [Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg"), noFace]);

            var cards = page.GetByTestId("prediction-card");
            await Assertions.Expect(cards).ToHaveCountAsync(2);
            await Assertions.Expect(page.GetByTestId("prediction-region")).ToHaveTextAsync(["looked at: face", "looked at: whole image (no face found)"]);
            // The portrait's card draws the box over the photo; the pattern's shows the plain photo.
            await Assertions.Expect(page.GetByTestId("prediction-face")).ToHaveCountAsync(1);
            var box = page.Locator("[data-testid=prediction-face] rect.face-box");
            Assert.True(double.Parse(await box.GetAttributeAsync("width") ?? "0", System.Globalization.CultureInfo.InvariantCulture) > 10);
            await Assertions.Expect(cards.Nth(1).Locator("img")).ToHaveCountAsync(1);
            await Assertions.Expect(page.GetByTestId("prediction-low-confidence")).ToHaveCountAsync(2);
            await Assertions.Expect(page.GetByTestId("low-confidence-count")).ToHaveTextAsync("2 low confidence");
            await Browser.ScreenshotAsync(page, "predict-03-face-box");
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "predict-face-failure");
            throw new InvalidOperationException($"{e.Message}\nScreenshots in {Browser.ArtifactsDirectory}. App log:\n{app.Log}", e);
        }
    }

    /// <summary>An untrained model of <paramref name="architecture"/> (seeded) in the app's models/ folder, where the page lists it.</summary>
    internal static void SaveUntrained(AppProcess app, string architecture, string file)
    {
        using var model = ModelArchitectures.Create(architecture, seed: 3);
        ModelStore.Save(Path.Combine(app.DataDirectory, "models", file), model, new ModelCard
        {
            Architecture = architecture,
            ClassNames = ["happy", "sad"],
            // The card says what the network takes: a model file is checked against it before use.
            Preprocessing = new Preprocessing { InputSize = ModelArchitectures.Describe(architecture).InputSize },
        });
    }

    static Task<IPage> OpenAsync(Browser browser, AppProcess app) =>
        app.NewSignedInPageAsync(browser.Instance, new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString(), ViewportSize = new ViewportSize { Width = 1366, Height = 900 } });
}
