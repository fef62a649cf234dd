using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using HappySad.Tests.Support;
using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>
/// A new user's first hour, in one sitting, in Chromium, on an empty app: the checklist on the home
/// page, a data set, a folder upload left half way and finished later, the same folder again, a
/// run with the preselected recipe, its quick test, Predict with that model, the CSV, a second run,
/// switching model, Compare, and the checklist all ticked. No console error on the way, and every
/// page it stops at passes axe.
/// </summary>
[Collection(EndToEndTests.Name)]
public sealed class FirstHourWalkEndToEndTests
{
    const int PerClass = 20;

    [Fact]
    public async Task ANewUserGoesFromAnEmptyAppToComparingTwoModels()
    {
        Assertions.SetDefaultExpectTimeout(30_000);
        await using var app = await AppProcess.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await app.NewSignedInPageAsync(browser.Instance, new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString(), ViewportSize = new ViewportSize { Width = 1366, Height = 900 } });
        var errors = PageErrors.Watch(page);
        var axe = new List<string>();
        // Copies, not the subset's symbolic links: a folder chosen in Chromium leaves links out.
        using var photos = new TempDirectory();
        foreach (var className in (string[])["happy", "sad"])
        {
            Directory.CreateDirectory(Path.Combine(photos.Path, className));
            foreach (var file in Directory.EnumerateFiles(Path.Combine(SharedPhotos.Root, className)).Order(StringComparer.Ordinal).Take(PerClass))
                File.Copy(file, Path.Combine(photos.Path, className, Path.GetFileName(file)));
        }
        const int total = 2 * PerClass;

        try
        {
            // Home: nothing done yet, and the first step is the one to take.
            await page.GotoAsync("/");
            var steps = page.GetByTestId("checklist-step");
            await Assertions.Expect(steps).ToHaveCountAsync(4);
            await Assertions.Expect(steps.First).ToHaveAttributeAsync("data-done", "false");
            await Assertions.Expect(page.Locator("[data-testid=checklist-step][data-done=true]")).ToHaveCountAsync(0);
            await CheckAsync(page, "walk-01-home", axe);

            // A data set, and its folder (class subfolders) uploaded: left half way, then finished.
            var dataSet = await DatasetsEndToEndTests.CreateDataSetAsync(page, "My first photos");
            var gate = await UploadGate.InstallAsync(page);
            await Browser.ChooseFilesAsync(page.GetByTestId("folder-input"), [photos.Path]);
            await gate.Held;
            await page.GetByRole(AriaRole.Link, new() { Name = "Runs", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("confirm-message")).ToContainTextAsync($"of {total} files are sent");
            await Browser.ScreenshotAsync(page, "walk-02-leave-mid-upload", fullPage: false);
            await page.GetByTestId("confirm-button").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/runs$"));
            await gate.RemoveAsync();

            // Back later: "N of M sent", and the same folder again sends the rest. The seed photos hold
            // one picture in both classes, so one file of the folder is a label conflict, never stored.
            await page.GotoAsync($"/datasets/{dataSet}");
            var notice = page.GetByTestId("upload-interrupted");
            await Assertions.Expect(notice).ToContainTextAsync(new Regex($@"\d+ of {total} files sent"));
            var sent = int.Parse(Regex.Match(await notice.InnerTextAsync(), $@"(\d+) of {total} files sent").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(sent, 1, total - 1);
            var storedBefore = await DatasetsEndToEndTests.PhotoCountAsync(page, dataSet);
            Assert.InRange(storedBefore, sent - 1, sent);
            await Browser.ScreenshotAsync(page, "walk-03-resume", fullPage: false);
            var results = page.GetByTestId("upload-results");
            await Browser.ChooseFilesAsync(page.GetByTestId("folder-input"), [photos.Path]);
            await Assertions.Expect(results.GetByTestId("duplicate-count")).ToHaveTextAsync($"{storedBefore} already here");
            await Assertions.Expect(results.GetByTestId("conflict-count")).ToHaveTextAsync("1 label conflict");
            var stored = await DatasetsEndToEndTests.PhotoCountAsync(page, dataSet);
            Assert.Equal(total - 1, stored);
            await Assertions.Expect(results.GetByTestId("accepted-count")).ToHaveTextAsync($"{stored - storedBefore} added");
            await Assertions.Expect(notice).ToHaveCountAsync(0);

            // The same folder a second time: a summary, not a hang, and nothing stored twice.
            await Browser.ChooseFilesAsync(page.GetByTestId("folder-input"), [photos.Path]);
            await Assertions.Expect(results.GetByTestId("accepted-count")).ToHaveTextAsync("0 added");
            await Assertions.Expect(results.GetByTestId("duplicate-count")).ToHaveTextAsync($"{stored} already here");
            await Assertions.Expect(results.GetByTestId("conflict-count")).ToHaveTextAsync("1 label conflict");
            Assert.Equal(stored, await DatasetsEndToEndTests.PhotoCountAsync(page, dataSet));
            await CheckAsync(page, "walk-04-dataset", axe);

            // A run with what the dialog preselects ("Best accuracy"), shortened to two epochs.
            await page.GetByTestId("train-dataset").ClickAsync();
            await Assertions.Expect(page.GetByTestId("preset-best-caption")).ToBeVisibleAsync();
            await RunsEndToEndTests.SetAsync(page, "run-epochs", "2");
            await page.GetByTestId("run-launch").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"/runs/\d+$"));
            var best = new Uri(page.Url).AbsolutePath.Split('/')[^1];
            await Assertions.Expect(page.GetByTestId("run-status")).ToHaveAttributeAsync("data-status", "Succeeded", new() { Timeout = 180_000 });
            await CheckAsync(page, "walk-05-run", axe);

            // Its quick test, right there.
            var quickTest = page.GetByTestId("quick-test");
            await Browser.ChooseFilesAsync(quickTest.GetByTestId("predict-file-input"), [Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg")]);
            await Assertions.Expect(quickTest.GetByTestId("prediction-label")).ToHaveTextAsync(new Regex("^(happy|sad)$"), new() { Timeout = 60_000 });
            await Assertions.Expect(quickTest.GetByTestId("prediction-model")).ToContainTextAsync($"Run {best}");
            await Browser.ScreenshotAsync(page, "walk-06-quick-test", fullPage: false);

            // Predict with this model: two photos, and their CSV names the model and the threshold.
            await quickTest.GetByTestId("predict-with-model").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/predict\\?model=run-{best}$"));
            // The Predict page itself, not the run page's drop zone still on screen for a moment.
            await Assertions.Expect(page.GetByTestId("model-select")).ToContainTextAsync($"Run {best} · My first photos");
            await Browser.ChooseFilesAsync(page.GetByTestId("predict-file-input"), [
                Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg"),
                Path.Combine(SharedPhotos.Root, "sad", "0x0.jpg"),
            ]);
            var cards = page.GetByTestId("prediction-card");
            await Assertions.Expect(cards.GetByTestId("prediction-label")).ToHaveCountAsync(2, new() { Timeout = 60_000 });
            var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("download-csv").ClickAsync());
            var csv = (await File.ReadAllLinesAsync(await download.PathAsync())).Where(l => l.Length > 0).ToArray();
            Assert.StartsWith("file,model,threshold,label,p_happy,p_sad", csv[0], StringComparison.Ordinal);
            Assert.Equal(3, csv.Length);
            Assert.All(csv[1..], row => Assert.Matches($@"^[^,]+,Run {best}\b[^,]*,0\.50,(happy|sad),", row));
            await CheckAsync(page, "walk-07-predict", axe);

            // A second run with the notebook's recipe, one click away in the same dialog.
            await page.GotoAsync($"/datasets/{dataSet}");
            await page.GetByTestId("train-dataset").ClickAsync();
            await page.GetByTestId("preset-notebook").ClickAsync();
            await Assertions.Expect(page.GetByTestId("run-epochs")).ToHaveValueAsync("20");
            await RunsEndToEndTests.SetAsync(page, "run-epochs", "1");
            await RunsEndToEndTests.SetAsync(page, "run-batch-size", "8");
            await page.GetByTestId("run-launch").ClickAsync();
            await Assertions.Expect(page).Not.ToHaveURLAsync(new Regex($"/datasets/{dataSet}$"));
            await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"/runs/\d+$"));
            var notebook = new Uri(page.Url).AbsolutePath.Split('/')[^1];
            await Assertions.Expect(page.GetByTestId("run-title")).ToContainTextAsync($"Run {notebook}");
            await Assertions.Expect(page.GetByTestId("run-status")).ToHaveAttributeAsync("data-status", "Succeeded", new() { Timeout = 180_000 });

            // Switching model on Predict clears the first model's verdicts and says so.
            await page.GotoAsync($"/predict?model=run-{best}");
            await Assertions.Expect(page.GetByTestId("model-select")).ToContainTextAsync($"Run {best} · My first photos");
            await Browser.ChooseFilesAsync(page.GetByTestId("predict-file-input"), [Path.Combine(SharedPhotos.Root, "sad", "0x0.jpg")]);
            await Assertions.Expect(cards.GetByTestId("prediction-label")).ToHaveCountAsync(1, new() { Timeout = 60_000 });
            await page.GetByTestId("model-select").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { NameRegex = new Regex($"^Run {notebook}\\b") }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("model-switched")).ToContainTextAsync($"the 1 verdict from Run {best} · My first photos was cleared");
            await Assertions.Expect(cards).ToHaveCountAsync(0);
            await Browser.ChooseFilesAsync(page.GetByTestId("predict-file-input"), [Path.Combine(SharedPhotos.Root, "sad", "0x0.jpg")]);
            await Assertions.Expect(cards.GetByTestId("prediction-model")).ToContainTextAsync($"Run {notebook}", new() { Timeout = 60_000 });
            await Browser.ScreenshotAsync(page, "walk-08-switched-model", fullPage: false);

            // Compare the two: their settings and their confusion matrices side by side.
            await page.GotoAsync("/runs");
            var grid = page.GetByTestId("runs-grid");
            await Assertions.Expect(grid.GetByTestId("run-link")).ToHaveCountAsync(2);
            var checkboxes = grid.Locator("tbody tr input[type=checkbox]");
            await checkboxes.Nth(0).CheckAsync();
            await checkboxes.Nth(1).CheckAsync();
            await CheckAsync(page, "walk-09-runs", axe);
            await page.GetByTestId("compare-runs").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"/runs/compare\?ids="));
            await Assertions.Expect(page.GetByTestId("same-data")).ToContainTextAsync("same data snapshot");
            await Assertions.Expect(page.GetByTestId("compare-matrix")).ToHaveCountAsync(2);
            await CheckAsync(page, "walk-10-compare", axe);

            // Home again: every step of the checklist ticked.
            await page.GotoAsync("/");
            await Assertions.Expect(page.GetByTestId("getting-started")).ToContainTextAsync("All done: every step below has happened at least once.");
            await Assertions.Expect(page.Locator("[data-testid=checklist-step][data-done=false]")).ToHaveCountAsync(0);
            await Assertions.Expect(page.Locator("[data-testid=checklist-step][data-done=true]")).ToHaveCountAsync(4);
            await CheckAsync(page, "walk-11-home-done", axe);

            Assert.True(axe.Count == 0, string.Join("\n", axe));
            errors.AssertNone();
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "walk-failure");
            throw new InvalidOperationException($"{e.Message}\nScreenshots in {Browser.ArtifactsDirectory}. App log:\n{app.Log}", e);
        }
    }

    /// <summary>A screenshot of the page as it stands, and its serious or critical axe findings.</summary>
    static async Task CheckAsync(IPage page, string name, List<string> found)
    {
        await Assertions.Expect(page.Locator(".mud-progress-linear-indeterminate")).ToHaveCountAsync(0);
        await Browser.ScreenshotAsync(page, name);
        var results = await page.RunAxe();
        found.AddRange(results.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{name}: {v.Id} ({v.Impact}) {v.Help} at {string.Join(" | ", v.Nodes.Take(3).Select(n => n.Html))}"));
    }
}
