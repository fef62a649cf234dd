using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>
/// Debian's Chromium driven by Playwright (browser downloads do not work here; <c>.ci/run</c> installs
/// <c>chromium</c> with apt). Screenshots go to <c>TestResults/e2e/</c> at the repository root, or to
/// <c>$HAPPYSAD_ARTIFACTS</c>.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    readonly IPlaywright _playwright;

    Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Instance = browser;
    }

    public IBrowser Instance { get; }

    public static string ArtifactsDirectory { get; } = FindArtifacts();

    /// <param name="arguments">More Chromium switches, e.g. <c>--host-resolver-rules</c> to give a test site a name of its own.</param>
    public static async Task<Browser> LaunchAsync(params string[] arguments)
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install it with 'apt-get install -y chromium' (.ci/run does)");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", .. arguments],
        });
        return new Browser(playwright, browser);
    }

    public static async Task ScreenshotAsync(IPage page, string name, bool fullPage = true)
    {
        ArgumentNullException.ThrowIfNull(page);
        Directory.CreateDirectory(ArtifactsDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory, name + ".png"), FullPage = fullPage });
    }

    /// <summary>
    /// Chooses files in a file input once the page has wired it: the pages keep their inputs disabled
    /// until the script that sends the files is attached, and a choice made earlier would be lost.
    /// </summary>
    public static async Task ChooseFilesAsync(ILocator input, IEnumerable<string> files)
    {
        ArgumentNullException.ThrowIfNull(input);
        await Assertions.Expect(input).ToBeEnabledAsync();
        await input.SetInputFilesAsync(files);
    }

    static string FindArtifacts()
    {
        if (Environment.GetEnvironmentVariable("HAPPYSAD_ARTIFACTS") is { Length: > 0 } configured)
            return configured;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "HappySad.Web.sln")))
                return Path.Combine(directory.FullName, "TestResults", "e2e");
        }
        return Path.Combine(AppContext.BaseDirectory, "e2e");
    }

    public async ValueTask DisposeAsync()
    {
        await Instance.DisposeAsync();
        _playwright.Dispose();
    }
}
