using System.Text.RegularExpressions;
using System.Threading.Channels;
using Deque.AxeCore.Playwright;
using HappySad.Tests.Support;
using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>
/// A new user's first hour in Chromium: every page passes axe in light, dark and on a phone, unknown
/// addresses land on the app's 404, and the keyboard reaches what the mouse does. One app with a data
/// set and two recorded runs, shared by the tests.
/// </summary>
[Collection(BesideUnitTestsEndToEnd.Name)]
public sealed class FirstHourEndToEndTests(FirstHourEndToEndTests.Fixture app) : IClassFixture<FirstHourEndToEndTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        internal AppProcess App { get; private set; } = default!;
        internal Browser Browser { get; private set; } = default!;

        public async Task InitializeAsync()
        {
            App = await AppProcess.StartAsync();
            using var sample = SharedPhotos.Subset(perClass: 12);
            // Run 1 and run 2 (a small model, one epoch each: enough to have pages to look at) and data set 1,
            // by commands in their own processes: nothing trains in this one, so these tests run beside the unit tests.
            foreach (var seed in (string[])["1", "2"])
                await AppProcess.RunCommandAsync(["train", "--record", "--data", sample.Path, "--model", "compact-cnn", "--epochs", "1", "--batch-size", "8", "--seed", seed, "--data-dir", App.DataDirectory], new Dictionary<string, string>());
            await AppProcess.RunCommandAsync(["import", "--data", sample.Path, "--name", "Sample", "--data-dir", App.DataDirectory], new Dictionary<string, string>());
            Browser = await Browser.LaunchAsync();
        }

        public async Task DisposeAsync()
        {
            await Browser.DisposeAsync();
            await App.DisposeAsync();
        }
    }

    static readonly string[] Pages = ["/", "/datasets", "/datasets/1", "/runs", "/runs/1", "/runs/compare?ids=1,2", "/predict", "/about", "/nope"];

    [Fact]
    public async Task EveryPageHasOneHeadingAMainLandmarkAndNoSeriousAxeViolationsInLightDarkAndOnAPhone()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        var found = new List<string>();
        foreach (var (layout, dark, width, height) in new[] { ("light", false, 1366, 900), ("dark", true, 1366, 900), ("phone", false, 390, 844) })
        {
            var page = await OpenAsync(width, height, dark);
            foreach (var address in Pages)
            {
                await page.GotoAsync(address);
                await Assertions.Expect(page.Locator("h1")).ToHaveCountAsync(1);
                await Assertions.Expect(page.Locator("main")).ToHaveCountAsync(1);
                // Loaded: nothing left spinning.
                await Assertions.Expect(page.Locator(".mud-progress-linear-indeterminate")).ToHaveCountAsync(0);
                // The remembered or preferred scheme is applied after the first render: wait for the page's background.
                await page.WaitForFunctionAsync("dark => { const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number); return (r + g + b < 200) === dark; }", dark);
                var slug = Regex.Replace(address, "[^a-z0-9]+", "-").Trim('-');
                var name = $"first-hour-{layout}-{(slug.Length > 0 ? slug : "home")}";
                await Browser.ScreenshotAsync(page, name);
                var results = await page.RunAxe();
                found.AddRange(results.Violations.Where(v => v.Impact is "serious" or "critical")
                    .Select(v => $"{layout} {address}: {v.Id} ({v.Impact}) {v.Help} at {string.Join(" | ", v.Nodes.Take(3).Select(n => n.Html))}"));
            }
            await page.Context.CloseAsync();
        }
        Assert.True(found.Count == 0, string.Join("\n", found));
    }

    [Theory]
    [InlineData("/nope", 404, "Page not found")]
    [InlineData("/runs/abc", 404, "Page not found")]
    [InlineData("/runs/999", 200, "Run 999 not found")]
    [InlineData("/datasets/999", 200, "Data set 999 not found")]
    public async Task UnknownAddressesAndIdsLandOnTheAppsNotFoundPage(string address, int status, string heading)
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        var page = await OpenAsync(1366, 900, dark: false);
        var response = await page.GotoAsync(address);

        Assert.Equal(status, response!.Status);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(heading);
        // Inside the app's layout, with a way home.
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Runs", Exact = true })).ToBeVisibleAsync();
        await page.GetByTestId("not-found-home").ClickAsync();
        await Assertions.Expect(page.GetByTestId("getting-started")).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task CompareNamesTheRunThatDoesNotExist()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        var page = await OpenAsync(1366, 900, dark: false);
        await page.GotoAsync("/runs/compare?ids=2,999");

        await Assertions.Expect(page.GetByTestId("compare-missing")).ToContainTextAsync("Run 999 does not exist");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TheKeyboardSkipsToContentOpensTheFilePickersAndEscapeClosesDialogs()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        var page = await OpenAsync(1366, 900, dark: false);
        // Listening before the page loads keeps Playwright intercepting file choosers throughout: a
        // listener added just before a key press races the interception it switches on, and the press
        // then opens Chromium's own (headless, invisible) chooser instead.
        var choosers = Channel.CreateUnbounded<IFileChooser>();
        page.FileChooser += (_, chooser) => choosers.Writer.TryWrite(chooser);
        await page.GotoAsync("/datasets/1");
        await Assertions.Expect(page.GetByTestId("choose-files")).ToHaveAttributeAsync("tabindex", "0");

        // A freshly loaded page leaves focus at the top of the document: the first Tab is the skip link.
        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(page.GetByTestId("skip-link")).ToBeFocusedAsync();
        await Assertions.Expect(page.GetByTestId("skip-link")).ToBeInViewportAsync();
        Assert.Equal("2px solid", await page.EvaluateAsync<string>("() => { const s = getComputedStyle(document.activeElement); return s.outlineWidth + ' ' + s.outlineStyle; }"));
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("main")).ToBeFocusedAsync();
        Assert.EndsWith("/datasets/1", page.Url, StringComparison.Ordinal);

        // Enter and Space on the labels standing in for the hidden inputs open the pickers.
        foreach (var (button, key, multiple) in new[] { ("choose-files", "Enter", true), ("choose-folder", " ", false) })
        {
            await TabToAsync(page, button);
            await page.Keyboard.PressAsync(key);
            var chooser = await choosers.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(multiple, chooser.IsMultiple);
            Assert.Equal(button == "choose-files" ? "file-input" : "folder-input", await chooser.Element.GetAttributeAsync("data-testid"));
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Rename" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        // Escape reaches the dialog once it holds the focus, as it does when it opens.
        await page.WaitForFunctionAsync("() => document.activeElement && document.activeElement.closest('[role=dialog]') !== null");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);

        // Navigating inside the app moves focus to the new page's heading, so a screen reader reads it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Runs", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Runs");
        await Assertions.Expect(page.Locator("h1")).ToBeFocusedAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task PredictFitsAPhoneWithTheThemeToggleOnScreen()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        var page = await OpenAsync(390, 844, dark: false);
        await page.GotoAsync("/predict");
        await Assertions.Expect(page.GetByTestId("predict-drop-zone")).ToBeVisibleAsync();

        // Names what sticks out, should anything: the innermost elements that end past the viewport's right edge.
        var wide = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5 && ![...e.children].some(c => c.getBoundingClientRect().right > innerWidth + 0.5))
                .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} right ${Math.round(e.getBoundingClientRect().right)}`)
            """);
        Assert.True(await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth") <= 390, "the page scrolls sideways: " + string.Join(", ", wide));
        await Assertions.Expect(page.GetByTestId("theme-toggle")).ToBeInViewportAsync(new() { Ratio = 1 });
        await Browser.ScreenshotAsync(page, "first-hour-phone-predict-top", fullPage: false);
        await page.Context.CloseAsync();
    }

    /// <summary>Presses Tab until the element is focused; fails if 60 presses do not get there.</summary>
    static async Task TabToAsync(IPage page, string testId)
    {
        for (var i = 0; i < 60; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<string?>("() => document.activeElement && document.activeElement.dataset.testid") == testId)
                return;
        }
        Assert.Fail($"Tab never reached {testId}");
    }

    async Task<IPage> OpenAsync(int width, int height, bool dark)
    {
        var context = await app.Browser.Instance.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = app.App.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = dark ? ColorScheme.Dark : ColorScheme.Light,
        });
        var page = await context.NewPageAsync();
        await app.App.SignInAsync(page);
        return page;
    }
}
