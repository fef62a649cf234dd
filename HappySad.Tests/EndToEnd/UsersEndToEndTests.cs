using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using HappySad.Tests.Support;
using HappySad.Web.Cli;
using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>
/// An admin manages users on <c>/users</c> while the users work in browser contexts of their own:
/// what a role shows and allows, and that a role change, a lock or a deletion takes effect on the
/// user's next request and in the tab they already have open. API tokens from the account page.
/// </summary>
[Collection(BesideUnitTestsEndToEnd.Name)]
public sealed class UsersEndToEndTests
{
    const string UserPassword = "vera's long password";

    [Fact]
    public async Task AViewerGetsWhatTheRoleAllowsAndLosesItWhenTheAdminChangesTheRoleOrLocksThem()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        await ImportDataSetAsync(app);
        await using var browser = await Browser.LaunchAsync();
        var options = new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString() };
        var admin = await app.NewSignedInPageAsync(browser.Instance, options);
        var vera = await browser.Instance.NewPageAsync(options);
        try
        {
            await admin.GotoAsync("/users");
            await CreateUserAsync(admin, "vera", role: null);
            await Assertions.Expect(UserRow(admin, "vera")).ToContainTextAsync("Viewer");

            // A Viewer browses without upload, scan, train or delete controls, and the API refuses her writes.
            await app.SignInAsync(vera, "vera", UserPassword);
            var dataSetId = await FirstDataSetIdAsync(vera);
            await vera.GotoAsync($"/datasets/{dataSetId}");
            await Assertions.Expect(vera.GetByTestId("dataset-title")).ToHaveTextAsync("target");
            await Assertions.Expect(vera.GetByText("Your role (Viewer) can browse and predict")).ToBeVisibleAsync();
            foreach (var control in (string[])["train-dataset", "delete-dataset", "file-input", "empty-trash", "scan-button"])
                await Assertions.Expect(vera.GetByTestId(control)).ToHaveCountAsync(0);
            await vera.GotoAsync("/runs");
            await Assertions.Expect(vera.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
            await Assertions.Expect(vera.GetByTestId("new-run")).ToHaveCountAsync(0);
            await Browser.ScreenshotAsync(vera, "users-01-viewer");
            var photos = await PhotoCountAsync(admin, dataSetId);
            // The page's own fetch, with its antiforgery token: only the role stops it.
            Assert.Equal(403, await UploadFromPageAsync(vera, dataSetId));
            Assert.Equal(200, await FetchStatusAsync(vera, "GET", "api/datasets"));
            Assert.Equal(200, await UploadFromPageAsync(admin, dataSetId));
            Assert.Equal(photos + 1, await PhotoCountAsync(admin, dataSetId));

            // Made an Editor: the tab she has open ends (her security stamp changed), she signs in again and gets the controls.
            await SetRoleAsync(admin, "vera", "Editor");
            await Assertions.Expect(vera.GetByTestId("not-authorized")).ToBeVisibleAsync();
            await vera.GotoAsync("/runs");
            await Assertions.Expect(vera).ToHaveURLAsync(new Regex("/account/signin\\?ReturnUrl=%2Fruns$"));
            await app.SignInAsync(vera, "vera", UserPassword);
            await vera.GotoAsync($"/datasets/{dataSetId}");
            await Assertions.Expect(vera.GetByTestId("delete-dataset")).ToBeVisibleAsync();
            // She opens "Delete data set?" and leaves it open.
            await vera.GetByTestId("delete-dataset").ClickAsync();
            await Assertions.Expect(vera.GetByTestId("confirm-button")).ToBeVisibleAsync();

            // Back to Viewer while her Editor tab (and its dialog) is open: the controls go at once, and a write sent
            // with that page's cookie and token is refused on the very next request.
            await SetRoleAsync(admin, "vera", "Viewer");
            // The open dialog goes with her rights: its button would still have deleted the data set.
            await Assertions.Expect(vera.GetByTestId("confirm-button")).ToHaveCountAsync(0);
            Assert.Equal(401, await UploadFromPageAsync(vera, dataSetId));
            await Assertions.Expect(vera.GetByTestId("delete-dataset")).ToHaveCountAsync(0);
            await Assertions.Expect(vera.GetByTestId("not-authorized")).ToBeVisibleAsync();
            Assert.Equal(photos + 1, await PhotoCountAsync(admin, dataSetId));

            // Locked: her next request is refused, and so is signing in.
            await app.SignInAsync(vera, "vera", UserPassword);
            await vera.GotoAsync("/datasets");
            await Assertions.Expect(vera.GetByTestId("datasets-table")).ToBeVisibleAsync();
            await UserRow(admin, "vera").GetByRole(AriaRole.Button, new() { Name = "Lock" }).ClickAsync();
            await Assertions.Expect(UserRow(admin, "vera")).ToContainTextAsync("(locked)");
            Assert.Equal(401, await FetchStatusAsync(vera, "GET", "api/datasets"));
            await Assertions.Expect(vera.GetByTestId("not-authorized")).ToBeVisibleAsync();
            await vera.GotoAsync("/account/signin");
            await vera.GetByTestId("signin-name").FillAsync("vera");
            await vera.GetByTestId("signin-password").FillAsync(UserPassword);
            await vera.GetByTestId("signin-submit").ClickAsync();
            await Assertions.Expect(vera.GetByTestId("signin-error")).ToHaveTextAsync(HappySad.Web.Components.Pages.Account.SignInPage.FailedMessage);
            await Browser.ScreenshotAsync(vera, "users-02-locked");
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(admin, "users-failure-admin");
            await Browser.ScreenshotAsync(vera, "users-failure-user");
            throw new InvalidOperationException($"{e.Message}\nApp log:\n{app.Log}", e);
        }
    }

    [Fact]
    public async Task AnApiTokenWorksUntilRevokedAndADeletedUsersSessionAndTokensStop()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        var options = new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString() };
        var admin = await app.NewSignedInPageAsync(browser.Instance, options);
        var eddie = await browser.Instance.NewPageAsync(options);
        try
        {
            await admin.GotoAsync("/users");
            await CreateUserAsync(admin, "eddie", role: "Editor");
            await app.SignInAsync(eddie, "eddie", UserPassword);

            // A token is shown once, works as Bearer, and stops at once when revoked on the page.
            var first = await CreateTokenAsync(eddie, "nightly");
            using var api = new HttpClient { BaseAddress = app.BaseAddress };
            Assert.Equal(HttpStatusCode.OK, await StatusWithTokenAsync(api, first));
            await eddie.ReloadAsync();
            await Assertions.Expect(eddie.GetByTestId("tokens")).ToContainTextAsync("nightly");
            await Assertions.Expect(eddie.GetByTestId("new-token")).ToHaveCountAsync(0);
            await eddie.GetByTestId("revoke-token").ClickAsync();
            await eddie.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
            await Assertions.Expect(eddie.GetByTestId("tokens")).ToHaveCountAsync(0);
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithTokenAsync(api, first));

            // Deleted: the open tab, the next request and the remaining token all stop.
            var second = await CreateTokenAsync(eddie, "backup");
            Assert.Equal(HttpStatusCode.OK, await StatusWithTokenAsync(api, second));
            await eddie.GotoAsync("/runs");
            await Assertions.Expect(eddie.GetByTestId("new-run")).ToBeVisibleAsync();
            await UserRow(admin, "eddie").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
            await admin.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
            await Assertions.Expect(UserRow(admin, "eddie")).ToHaveCountAsync(0);
            Assert.Equal(401, await FetchStatusAsync(eddie, "GET", "api/runs"));
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithTokenAsync(api, second));
            await Assertions.Expect(eddie.GetByTestId("new-run")).ToHaveCountAsync(0);
            await Assertions.Expect(eddie.GetByTestId("not-authorized")).ToBeVisibleAsync();
            await eddie.GotoAsync("/runs");
            await Assertions.Expect(eddie).ToHaveURLAsync(new Regex("/account/signin\\?ReturnUrl=%2Fruns$"));
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(admin, "tokens-failure-admin");
            await Browser.ScreenshotAsync(eddie, "tokens-failure-user");
            throw new InvalidOperationException($"{e.Message}\nApp log:\n{app.Log}", e);
        }
    }

    static async Task ImportDataSetAsync(AppProcess app)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var sample = SharedPhotos.Subset(perClass: 4);
        Assert.True(await CliApp.RunAsync(["import", "--data", sample.Path, "--name", "target", "--data-dir", app.DataDirectory], output, error) == 0, error.ToString());
    }

    static ILocator UserRow(IPage admin, string name) =>
        admin.GetByTestId("users").Locator("tbody tr").Filter(new() { Has = admin.GetByText(name, new() { Exact = false }) });

    /// <summary>Fills the new-user form; <paramref name="role"/> null keeps the form's default (Viewer).</summary>
    static async Task CreateUserAsync(IPage admin, string name, string? role)
    {
        await admin.GetByTestId("new-user-name").FillAsync(name);
        await admin.GetByTestId("new-user-password").FillAsync(UserPassword);
        if (role is not null)
        {
            await admin.GetByTestId("new-user-role").ClickAsync();
            await admin.GetByRole(AriaRole.Option, new() { Name = role }).ClickAsync();
            // The circuit renders the choice once it has it: a click on Create before then would create a Viewer.
            await Assertions.Expect(admin.GetByTestId("new-user-role")).ToContainTextAsync(role);
        }
        await admin.GetByTestId("create-user").ClickAsync();
        await Assertions.Expect(admin.GetByText($"Created {role ?? "Viewer"} '{name}'")).ToBeVisibleAsync();
    }

    static async Task SetRoleAsync(IPage admin, string name, string role)
    {
        await UserRow(admin, name).Locator(".mud-select").First.ClickAsync();
        await admin.GetByRole(AriaRole.Option, new() { Name = role }).ClickAsync();
        await Assertions.Expect(admin.GetByText($"'{name}' is now {role}")).ToBeVisibleAsync();
    }

    static async Task<string> CreateTokenAsync(IPage page, string name)
    {
        await page.GotoAsync("/account");
        await page.GetByTestId("token-name").FillAsync(name);
        await page.GetByTestId("create-token").ClickAsync();
        var token = await page.GetByTestId("new-token").TextContentAsync();
        Assert.StartsWith("hs_", token, StringComparison.Ordinal);
        return token!;
    }

    static async Task<HttpStatusCode> StatusWithTokenAsync(HttpClient api, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/runs");
        request.Headers.Authorization = new("Bearer", token);
        using var response = await api.SendAsync(request);
        return response.StatusCode;
    }

    static async Task<int> FirstDataSetIdAsync(IPage page) =>
        (await page.EvaluateAsync<JsonElement>("async () => (await fetch('api/datasets')).json()"))[0].GetProperty("id").GetInt32();

    static async Task<int> PhotoCountAsync(IPage page, int dataSetId) =>
        AccountsEndToEndTests.PhotoCount(await page.EvaluateAsync<JsonElement>($"async () => (await fetch('api/datasets/{dataSetId}')).json()"));

    /// <summary>A request from the page's own script with its cookie and its antiforgery token, as the dashboard sends them.</summary>
    static Task<int> FetchStatusAsync(IPage page, string method, string url) => page.EvaluateAsync<int>("""
        async ([method, url]) => {
            const token = document.querySelector('meta[name="request-verification-token"]').content;
            return (await fetch(url, { method, headers: { RequestVerificationToken: token } })).status;
        }
        """, new[] { method, url });

    static Task<int> UploadFromPageAsync(IPage page, int dataSetId) => page.EvaluateAsync<int>("""
        async ([url, photo]) => {
            const token = document.querySelector('meta[name="request-verification-token"]').content;
            const form = new FormData();
            form.append("files", new Blob([Uint8Array.from(atob(photo), c => c.charCodeAt(0))], { type: "image/jpeg" }), "happy/mine-" + Math.random() + ".jpg");
            return (await fetch(url, { method: "POST", body: form, headers: { RequestVerificationToken: token } })).status;
        }
        """, new[] { $"api/datasets/{dataSetId}/photos", Convert.ToBase64String(TestImages.Blocks(seed: Random.Shared.Next(), format: SkiaSharp.SKEncodedImageFormat.Jpeg)) });
}
