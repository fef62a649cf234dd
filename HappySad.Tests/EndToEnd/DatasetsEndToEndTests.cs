using System.Text.RegularExpressions;
using HappySad.Tests.Support;
using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>Clicks through the data set pages of the real app in Chromium.</summary>
[Collection(BesideUnitTestsEndToEnd.Name)]
public sealed partial class DatasetsEndToEndTests
{
    static readonly string[] HappyPhotos = ["05-12-21-happy-people.jpg", "07-120104-happy_people_are_not_nice_people.jpg", "1-2.jpg", "1000_F_42220133_toAU6USGY9jVr2XJFLssfG00cSYIJ173.jpg", "11-Habits-of-Truly-Happy-People.jpg"];
    static readonly string[] SadPhotos = ["0x0.jpg", "1000_F_58495935_Nr9VzQljLyN3RKKhGDGxQDBEkqIeLzrZ.jpg", "280-2804580_sad-people-png-sad-person-png-transparent-png.png", "405-4050267_sad-people-png-sad-person-transparent-background-png.png", "504212.jpg"];

    [Fact]
    public async Task CreateUploadScanTrashAndRestoreADataSet()
    {
        // Two slow cores in CI: give each expectation more than Playwright's default 5 s.
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await OpenAsync(browser, app);

        try
        {
            await WalkThroughAsync(page);
            await PhoneAndDarkModeAsync(browser.Instance, app);
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "failure");
            throw new InvalidOperationException($"{e.Message}\nScreenshots in {Browser.ArtifactsDirectory}. App log:\n{app.Log}", e);
        }
    }

    /// <summary>
    /// The happy folder, then the whole seed folder (301 photos in class folders): the second time
    /// every happy photo is already here, and the one sad photo that is byte for byte a happy one is
    /// named as the label conflict it is. Once, tens of KB of outcomes travelled in one circuit
    /// message and hung the page on "Checking the last files…"; now only counts and the files that
    /// need a look travel. Then a zip of 600 empty files: their rejections wait behind "Show details"
    /// and only the rows in view are rendered.
    /// </summary>
    [Fact]
    public async Task AFolderUploadedTwiceGetsBothSummaries()
    {
        Assertions.SetDefaultExpectTimeout(60_000);
        await using var app = await AppProcess.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await OpenAsync(browser, app);
        var happy = Path.Combine(SharedPhotos.Root, "happy");
        var (happyPhotos, photos) = (Directory.GetFiles(happy).Length, Directory.GetFiles(SharedPhotos.Root, "*", SearchOption.AllDirectories).Length);
        using var bad = new TempDirectory();
        var zip = bad.File("empties.zip");
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Create))
        {
            for (var i = 0; i < 600; i++)
                archive.CreateEntry($"happy/empty-{i:000}.jpg");
        }
        try
        {
            await CreateDataSetAsync(page, "Twice");
            var results = page.GetByTestId("upload-results");
            await Browser.ChooseFilesAsync(page.GetByTestId("folder-input"), [happy]);
            await Assertions.Expect(results).ToHaveCountAsync(1);
            Assert.Equal(happyPhotos, await CountAsync(results, "accepted-count") + await CountAsync(results, "duplicate-count") + await CountAsync(results, "rejected-count"));
            await results.GetByRole(AriaRole.Button, new() { Name = "Dismiss" }).ClickAsync();
            await Assertions.Expect(results).ToHaveCountAsync(0);

            await Browser.ChooseFilesAsync(page.GetByTestId("folder-input"), [SharedPhotos.Root]);
            await Assertions.Expect(results).ToHaveCountAsync(1);
            await Assertions.Expect(results.GetByTestId("conflict-count")).ToHaveTextAsync("1 label conflict");
            Assert.Equal(photos, await CountAsync(results, "accepted-count") + await CountAsync(results, "duplicate-count") + await CountAsync(results, "rejected-count") + 1);
            Assert.True(await CountAsync(results, "duplicate-count") >= happyPhotos, "every happy photo again is already here");
            var conflict = results.Locator("[data-testid=upload-row][data-status=LabelConflict]");
            await Assertions.Expect(conflict).ToHaveCountAsync(1);
            await Assertions.Expect(conflict.GetByTestId("upload-reason")).ToContainTextAsync("label conflict: sent as sad, but the same photo is already in happy");
            // The window only: the page below holds 300 thumbnails.
            await Browser.ScreenshotAsync(page, "04-folder-twice", fullPage: false);

            await results.GetByRole(AriaRole.Button, new() { Name = "Dismiss" }).ClickAsync();
            await Browser.ChooseFilesAsync(page.GetByTestId("file-input"), [zip]);
            await Assertions.Expect(results.GetByTestId("rejected-count")).ToHaveTextAsync("600 rejected");
            await Assertions.Expect(results.GetByTestId("upload-details")).ToHaveCountAsync(0);
            await results.GetByTestId("upload-details-toggle").ClickAsync();
            await Assertions.Expect(results.GetByTestId("upload-row").First).ToContainTextAsync("file is empty (0 bytes)");
            // Virtualize renders up to 100 rows until it has measured them; then those in view and a few more.
            await page.WaitForFunctionAsync(FewRowsRendered);
            await results.GetByTestId("upload-details").EvaluateAsync("e => e.scrollTop = e.scrollHeight");
            await Assertions.Expect(results.GetByText("empty-599.jpg", new() { Exact = true })).ToBeVisibleAsync();
            await page.WaitForFunctionAsync(FewRowsRendered);
            await Browser.ScreenshotAsync(page, "04b-many-rejections", fullPage: false);
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "folder-twice-failure");
            throw new InvalidOperationException($"{e.Message}\nScreenshots in {Browser.ArtifactsDirectory}. App log:\n{app.Log}", e);
        }
    }

    /// <summary>
    /// Leaving mid-upload asks first. Staying lets the upload finish; leaving stops it, and back on the
    /// data set page (after a reload) the panel says how many of the files were sent, matching the
    /// photos the API counts; choosing the folder again sends the rest. Requests after each upload's
    /// first are held until the test releases them, so "mid-upload" is a state, not a race.
    /// </summary>
    [Fact]
    public async Task LeavingMidUploadAsksFirstAndTheRestCanBeSentLater()
    {
        Assertions.SetDefaultExpectTimeout(60_000);
        await using var app = await AppProcess.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await OpenAsync(browser, app);
        var errors = PageErrors.Watch(page);
        var happy = Path.Combine(SharedPhotos.Root, "happy");
        var photos = Directory.GetFiles(happy).Length;
        var results = page.GetByTestId("upload-results");
        var confirm = page.GetByTestId("confirm-message");
        try
        {
            // Stay: the upload goes on to its end.
            var stay = await CreateDataSetAsync(page, "Stay");
            var gate = await UploadGate.InstallAsync(page);
            await Browser.ChooseFilesAsync(page.GetByTestId("folder-input"), [happy]);
            await gate.Held;
            await page.GetByRole(AriaRole.Link, new() { Name = "Runs" }).ClickAsync();
            await Assertions.Expect(confirm).ToContainTextAsync($"of {photos} files are sent");
            await Browser.ScreenshotAsync(page, "11-leave-mid-upload", fullPage: false);
            await page.GetByTestId("cancel-button").ClickAsync();
            await Assertions.Expect(confirm).ToHaveCountAsync(0);
            await gate.ReleaseAsync();
            await Assertions.Expect(results.GetByTestId("accepted-count")).ToHaveTextAsync($"{photos} added");
            Assert.EndsWith($"/datasets/{stay}", page.Url, StringComparison.Ordinal);
            Assert.Equal(photos, await PhotoCountAsync(page, stay));
            await Assertions.Expect(page.GetByTestId("upload-interrupted")).ToHaveCountAsync(0);

            // Leave: the upload stops after what the server already answered.
            var leave = await CreateDataSetAsync(page, "Leave");
            gate = await UploadGate.InstallAsync(page);
            await Browser.ChooseFilesAsync(page.GetByTestId("folder-input"), [happy]);
            await gate.Held;
            await page.GetByRole(AriaRole.Link, new() { Name = "Runs" }).ClickAsync();
            await page.GetByTestId("confirm-button").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/runs$"));
            await gate.RemoveAsync();

            // Back (a reload, as a closed tab would be): "N of M sent", N as the server counts them.
            await page.GotoAsync($"/datasets/{leave}");
            var notice = page.GetByTestId("upload-interrupted");
            await Assertions.Expect(notice).ToBeVisibleAsync();
            var sent = await PhotoCountAsync(page, leave);
            Assert.InRange(sent, 1, photos - 1);
            await Assertions.Expect(notice).ToContainTextAsync($"Last upload stopped: {sent} of {photos} files sent");
            await Assertions.Expect(notice).ToContainTextAsync($"send the other {photos - sent}");
            await Browser.ScreenshotAsync(page, "12-upload-interrupted", fullPage: false);

            // The same folder again: the rest arrive, the first ones are already here.
            await Browser.ChooseFilesAsync(page.GetByTestId("folder-input"), [happy]);
            await Assertions.Expect(results.GetByTestId("accepted-count")).ToHaveTextAsync($"{photos - sent} added");
            await Assertions.Expect(results.GetByTestId("duplicate-count")).ToHaveTextAsync($"{sent} already here");
            await Assertions.Expect(notice).ToHaveCountAsync(0);
            Assert.Equal(photos, await PhotoCountAsync(page, leave));

            // Gone for good: not on a reload either.
            await page.ReloadAsync();
            await Assertions.Expect(page.GetByTestId("dataset-title")).ToHaveTextAsync("Leave");
            await Assertions.Expect(page.GetByTestId("folder-input")).ToBeEnabledAsync();
            await Assertions.Expect(notice).ToHaveCountAsync(0);
            errors.AssertNone();
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "leave-mid-upload-failure");
            throw new InvalidOperationException($"{e.Message}\nScreenshots in {Browser.ArtifactsDirectory}. App log:\n{app.Log}", e);
        }
    }

    /// <summary>
    /// A photo dropped while an upload runs is sent when it ends, as an upload of its own, and the panel
    /// says so meanwhile; a drop the browser cannot read says why instead of doing nothing.
    /// </summary>
    [Fact]
    public async Task APhotoDroppedDuringAnUploadIsSentAfterItAndADropThatCannotBeReadSaysSo()
    {
        Assertions.SetDefaultExpectTimeout(60_000);
        await using var app = await AppProcess.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await OpenAsync(browser, app);
        var errors = PageErrors.Watch(page);
        var happy = Path.Combine(SharedPhotos.Root, "happy");
        var photos = Directory.GetFiles(happy).Length;
        try
        {
            var id = await CreateDataSetAsync(page, "Late drops");
            var gate = await UploadGate.InstallAsync(page);
            await Browser.ChooseFilesAsync(page.GetByTestId("folder-input"), [happy]);
            await gate.Held;
            // A photo made in the page, dropped as a file (no folder entry), as a drop from another window is.
            await page.GetByTestId("drop-zone").EvaluateAsync("""
                async zone => {
                    const canvas = document.createElement("canvas");
                    canvas.width = 64; canvas.height = 48;
                    const g = canvas.getContext("2d");
                    g.fillStyle = "#c33"; g.fillRect(0, 0, 64, 48); g.fillStyle = "#3c3"; g.fillRect(16, 12, 32, 24);
                    const blob = await new Promise(resolve => canvas.toBlob(resolve, "image/png"));
                    const dropped = new DataTransfer();
                    dropped.items.add(new File([blob], "dropped-late.png", { type: "image/png" }));
                    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dropped, bubbles: true, cancelable: true }));
                }
                """);
            await Assertions.Expect(page.GetByTestId("upload-queued")).ToHaveTextAsync("1 more file dropped during this upload will be sent when it ends.");
            await gate.ReleaseAsync();
            await Assertions.Expect(page.GetByTestId("upload-results").GetByTestId("accepted-count")).ToHaveTextAsync("1 added");
            Assert.Equal(photos + 1, await PhotoCountAsync(page, id));
            await Assertions.Expect(page.GetByTestId("upload-queued")).ToHaveCountAsync(0);

            // A folder whose listing fails (as one the browser may not read does): the panel says so and nothing is sent.
            await page.GetByTestId("drop-zone").EvaluateAsync("""
                zone => {
                    const folder = {
                        isFile: false, isDirectory: true, name: "locked",
                        createReader: () => ({ readEntries: (ok, failed) => failed(new DOMException("A requested file or directory could not be found", "NotFoundError")) }),
                    };
                    const drop = new DragEvent("drop", { bubbles: true, cancelable: true });
                    Object.defineProperty(drop, "dataTransfer", { value: { items: [{ webkitGetAsEntry: () => folder }], files: [] } });
                    zone.dispatchEvent(drop);
                }
                """);
            await Assertions.Expect(page.GetByTestId("drop-failed")).ToHaveTextAsync(
                "what was dropped could not be read (A requested file or directory could not be found); nothing was sent");
            Assert.Equal(photos + 1, await PhotoCountAsync(page, id));
            errors.AssertNone();
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "late-drop-failure");
            throw new InvalidOperationException($"{e.Message}\nScreenshots in {Browser.ArtifactsDirectory}. App log:\n{app.Log}", e);
        }
    }

    /// <summary>A signed-in page in a laptop-sized window.</summary>
    static Task<IPage> OpenAsync(Browser browser, AppProcess app) =>
        app.NewSignedInPageAsync(browser.Instance, new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString(), ViewportSize = new ViewportSize { Width = 1366, Height = 900 } });

    /// <summary>Creates a data set from the list page and answers its id, from the address it opens.</summary>
    internal static async Task<int> CreateDataSetAsync(IPage page, string name)
    {
        await page.GotoAsync("/datasets");
        await page.GetByTestId("new-dataset").ClickAsync();
        await page.GetByTestId("dataset-name").FillAsync(name);
        await page.GetByTestId("dataset-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("dataset-title")).ToHaveTextAsync(name);
        return int.Parse(page.Url.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The data set's photos in its classes, as the API counts them.</summary>
    internal static async Task<int> PhotoCountAsync(IPage page, int dataSetId)
    {
        var response = await page.APIRequest.GetAsync($"api/datasets/{dataSetId}");
        Assert.True(response.Ok, $"GET api/datasets/{dataSetId}: {response.Status}");
        var body = await response.JsonAsync();
        return body!.Value.GetProperty("class_counts").EnumerateArray().Sum(c => c.GetInt32());
    }

    const string FewRowsRendered = "() => { const n = document.querySelectorAll('[data-testid=upload-row]').length; return n > 0 && n < 40; }";

    static async Task<int> CountAsync(ILocator results, string chip) =>
        int.Parse((await results.GetByTestId(chip).InnerTextAsync()).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    static async Task WalkThroughAsync(IPage page)
    {
        var expect = Assertions.Expect(page.GetByTestId("dataset-title"));
        using var bad = new TempDirectory();
        var svg = bad.File("smile.jpg");
        await File.WriteAllTextAsync(svg, "<svg xmlns='http://www.w3.org/2000/svg'><circle r='5'/></svg>");
        var empty = bad.File("empty.png");
        await File.WriteAllBytesAsync(empty, []);
        // A JPEG named .png: accepted, and the scan should point it out.
        var renamed = bad.File("renamed.png");
        File.Copy(Path.Combine(SharedPhotos.Root, "happy", "170404-happy-workers-feature.jpg"), renamed);

        // Create a data set from the list page.
        await page.GotoAsync("/datasets");
        await Assertions.Expect(page.GetByText("No data sets yet")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "01-datasets-empty");
        await page.GetByTestId("new-dataset").ClickAsync();
        await page.GetByTestId("dataset-name").FillAsync("Faces");
        await Browser.ScreenshotAsync(page, "02-create-dialog");
        await page.GetByTestId("dataset-save").ClickAsync();
        await expect.ToHaveTextAsync("Faces");

        // Six happy photos and two bad files through the real file input, into "happy".
        await Browser.ChooseFilesAsync(page.GetByTestId("file-input"), [.. HappyPhotos.Select(f => Path.Combine(SharedPhotos.Root, "happy", f)), renamed, svg, empty]);
        var results = page.GetByTestId("upload-results");
        await Assertions.Expect(results.GetByTestId("accepted-count")).ToHaveTextAsync("6 added");
        await Assertions.Expect(results.GetByTestId("rejected-count")).ToHaveTextAsync("2 rejected");
        await Assertions.Expect(results.GetByText("SVG vector images are not supported", new() { Exact = false })).ToBeVisibleAsync();
        await Assertions.Expect(results.GetByText("file is empty (0 bytes)")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "03-upload-results");

        // Five sad photos, after choosing "sad" as the target class (and dismissing the last results).
        await results.GetByRole(AriaRole.Button, new() { Name = "Dismiss" }).ClickAsync();
        await Assertions.Expect(results).ToHaveCountAsync(0);
        await page.GetByTestId("target-class").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "sad" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("target-class")).ToContainTextAsync("sad");
        await Browser.ChooseFilesAsync(page.GetByTestId("file-input"), [.. SadPhotos.Select(f => Path.Combine(SharedPhotos.Root, "sad", f))]);
        await Assertions.Expect(results.GetByTestId("accepted-count")).ToHaveTextAsync("5 added");
        await Assertions.Expect(CountOf(page, "happy")).ToHaveTextAsync("6");
        await Assertions.Expect(CountOf(page, "sad")).ToHaveTextAsync("5");
        await Assertions.Expect(page.GetByTestId("thumb")).ToHaveCountAsync(6);
        await Browser.ScreenshotAsync(page, "04-dataset-with-photos");

        // A scan finds the misleading name; select that row and send it to the trash.
        await page.GetByTestId("scan-button").ClickAsync();
        var finding = page.Locator("[data-testid=scan-panel] tr", new() { HasText = "renamed.png" });
        await Assertions.Expect(finding.GetByTestId("scan-reason")).ToHaveTextAsync("named .png but the content is JPEG");
        await finding.Locator("input[type=checkbox]").CheckAsync();
        await Browser.ScreenshotAsync(page, "05-scan");
        await page.GetByTestId("scan-trash").ClickAsync();
        await Assertions.Expect(page.GetByTestId("trash-count")).ToHaveTextAsync("1");
        await Assertions.Expect(CountOf(page, "happy")).ToHaveTextAsync("5");

        // Trash a photo from its dialog, then restore it from the trash tab.
        await page.GetByTestId("thumb").First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("full-image")).ToBeVisibleAsync();
        // The skip link stays out of the way (and out of Tab's reach) while a dialog is open.
        await Assertions.Expect(page.GetByTestId("skip-link")).ToBeHiddenAsync();
        await Browser.ScreenshotAsync(page, "06-photo-dialog");
        await page.GetByTestId("trash-photo").ClickAsync();
        await Assertions.Expect(page.GetByTestId("trash-count")).ToHaveTextAsync("2");
        await Assertions.Expect(CountOf(page, "happy")).ToHaveTextAsync("4");

        await page.GetByRole(AriaRole.Tab, new() { NameRegex = TrashTab() }).ClickAsync();
        // Wait for the trash panel itself: until it renders, the first thumbnail is still a happy one.
        await Assertions.Expect(page.GetByTestId("empty-trash")).ToBeVisibleAsync();
        await page.GetByTestId("thumb").First.ClickAsync();
        await Browser.ScreenshotAsync(page, "07-trash");
        await page.GetByTestId("restore-photo").ClickAsync();
        await Assertions.Expect(page.GetByTestId("trash-count")).ToHaveTextAsync("1");
        await Assertions.Expect(CountOf(page, "happy")).ToHaveTextAsync("5");

        // The list page shows the counts too.
        await page.GotoAsync("/datasets");
        await Assertions.Expect(page.GetByTestId("datasets-table")).ToContainTextAsync("happy: 5");
        await Assertions.Expect(page.GetByTestId("datasets-table")).ToContainTextAsync("sad: 5");
        await Browser.ScreenshotAsync(page, "08-datasets-list");

    }

    static async Task PhoneAndDarkModeAsync(IBrowser browser, AppProcess app)
    {
        // A phone-sized browser: the list still shows the data set and its counts.
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = app.BaseAddress.ToString(), ViewportSize = new ViewportSize { Width = 390, Height = 844 }, IsMobile = true });
        var page = await context.NewPageAsync();
        await app.SignInAsync(page);
        await page.GotoAsync("/datasets");
        await Assertions.Expect(page.GetByTestId("datasets-table")).ToContainTextAsync("happy: 5");
        await Browser.ScreenshotAsync(page, "09-datasets-phone");

        // Dark mode is remembered by the browser across a reload.
        var light = await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor");
        await page.GetByTestId("theme-toggle").ClickAsync();
        // The click goes to the server and back before the choice is stored: reload only after that.
        await page.WaitForFunctionAsync("() => localStorage.getItem('happysad.darkMode') === 'true'");
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("datasets-table")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("c => getComputedStyle(document.body).backgroundColor !== c", light);
        await Browser.ScreenshotAsync(page, "10-datasets-phone-dark");
    }

    static ILocator CountOf(IPage page, string className) =>
        page.Locator($"[data-testid=class-count][data-class={className}] td").Nth(1);

    [GeneratedRegex("^Trash")]
    private static partial Regex TrashTab();
}

/// <summary>Tests that train in or time the app's own processes (browser tests, the benches): one at a time, with nothing else running.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndTests
{
    public const string Name = "End to end";
}

/// <summary>
/// Browser tests that train nothing and time nothing (data sets, accounts, attacks): they run beside
/// the unit tests (one at a time among themselves) instead of adding minutes to the sequential
/// end-to-end phase.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BesideUnitTestsEndToEnd
{
    public const string Name = "End to end, beside the unit tests";
}
