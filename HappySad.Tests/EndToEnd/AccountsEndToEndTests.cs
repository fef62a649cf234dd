using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using HappySad.Tests.Support;
using HappySad.Web.Cli;
using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>Signing in, signing out, the first-admin link, and another site's page attacking a signed-in user, in Chromium.</summary>
[Collection(EndToEndTests.Name)]
public sealed partial class AccountsEndToEndTests
{
    [Fact]
    public async Task PagesAreRefusedBeforeSigningInAndAfterSigningOut()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.Instance.NewPageAsync(new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString() });
        try
        {
            await page.GotoAsync("/datasets");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/account/signin\\?ReturnUrl=%2Fdatasets$"));
            await Assertions.Expect(page.GetByTestId("datasets-table")).ToHaveCountAsync(0);

            await page.GetByTestId("signin-name").FillAsync(AppProcess.UserName);
            await page.GetByTestId("signin-password").FillAsync("not the password");
            await page.GetByTestId("signin-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("signin-error")).ToHaveTextAsync("Wrong name or password.");

            // Signing in returns to the page that was asked for.
            await page.GetByTestId("signin-name").FillAsync(AppProcess.UserName);
            await page.GetByTestId("signin-password").FillAsync(AppProcess.Password);
            await page.GetByTestId("signin-submit").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Uri(app.BaseAddress, "datasets").ToString());
            await Assertions.Expect(page.GetByTestId("account-link")).ToHaveTextAsync(AppProcess.UserName);
            var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "happysad_session");
            Assert.True(cookie.HttpOnly);
            Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
            await Browser.ScreenshotAsync(page, "accounts-signed-in");

            await page.GetByTestId("sign-out").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/account/signin$"));
            await page.GotoAsync("/runs");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/account/signin\\?ReturnUrl=%2Fruns$"));
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "accounts-failure");
            throw new InvalidOperationException($"{e.Message}\nApp log:\n{app.Log}", e);
        }
    }

    [Fact]
    public async Task TheSetupLinkCreatesTheFirstAdminOnce()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync(withAdmin: false);
        var link = await app.WaitForLogAsync(SetupLinkLine());
        Assert.StartsWith(app.BaseAddress + "setup?token=", link, StringComparison.Ordinal);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.Instance.NewPageAsync();
        try
        {
            await page.GotoAsync(app.BaseAddress + "setup?token=wrong");
            await Assertions.Expect(page.GetByTestId("setup-invalid")).ToBeVisibleAsync();

            await page.GotoAsync(link);
            await page.GetByTestId("setup-name").FillAsync("owner");
            await page.GetByTestId("setup-password").FillAsync("owner's long password");
            await page.GetByTestId("setup-confirm").FillAsync("owner's long password");
            await page.GetByTestId("setup-submit").ClickAsync();
            // Signed in as the new admin, on a working dashboard, with the users page in the menu.
            await Assertions.Expect(page).ToHaveURLAsync(app.BaseAddress.ToString());
            await Assertions.Expect(page.GetByTestId("account-link")).ToHaveTextAsync("owner");
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Users" })).ToBeVisibleAsync();

            await page.GotoAsync(link);
            await Assertions.Expect(page.GetByTestId("setup-invalid")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("setup-submit")).ToHaveCountAsync(0);
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "setup-failure");
            throw new InvalidOperationException($"{e.Message}\nApp log:\n{app.Log}", e);
        }
    }

    /// <summary>
    /// A page on another origin (another port of the same host: the same site, so even a
    /// SameSite=Strict cookie travels) tries, for a signed-in user, a multipart upload, the bodiless
    /// cancel and a WebSocket to the hub. The uploads stay out, the run keeps going and the socket is
    /// refused, while the same socket from the app's own page opens.
    /// </summary>
    [Fact]
    public async Task AnotherSitesPageCannotActForASignedInUser()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        using (var output = new StringWriter())
        using (var error = new StringWriter())
        using (var sample = SharedPhotos.Subset(perClass: 12))
            Assert.True(await CliApp.RunAsync(["import", "--data", sample.Path, "--name", "target", "--data-dir", app.DataDirectory], output, error) == 0, error.ToString());
        await using var browser = await Browser.LaunchAsync();
        var page = await app.NewSignedInPageAsync(browser.Instance, new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString() });
        using var attacker = new AttackerSite();
        try
        {
            // A token from the account page, for the test's own requests.
            await page.GotoAsync("/account");
            await page.GetByTestId("token-name").FillAsync("e2e");
            await page.GetByTestId("create-token").ClickAsync();
            var token = await page.GetByTestId("new-token").TextContentAsync();
            using var api = new HttpClient { BaseAddress = app.BaseAddress };
            api.DefaultRequestHeaders.Authorization = new("Bearer", token);
            var dataSet = (await api.GetFromJsonAsync<JsonElement>("api/datasets"))[0];
            var (dataSetId, photos) = (dataSet.GetProperty("id").GetInt32(), PhotoCount(dataSet));
            using var launched = await api.PostAsJsonAsync("api/runs", new { data_set_id = dataSetId, epochs = 500, batch_size = 2 });
            Assert.True(launched.StatusCode == HttpStatusCode.Created, await launched.Content.ReadAsStringAsync());
            var runId = (await launched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();

            // The same WebSocket from the app's own page opens: the refusal below is the origin's.
            Assert.Equal("open", await page.EvaluateAsync<string>(OpenSocket, new Uri(app.BaseAddress, "hubs/training").ToString().Replace("http", "ws", StringComparison.Ordinal)));

            attacker.Html = AttackPage(app.BaseAddress, dataSetId, runId);
            await page.GotoAsync(attacker.Address.ToString());
            await page.WaitForFunctionAsync("() => window.done === true");
            Assert.Equal("refused", await page.EvaluateAsync<string>("() => window.socket"));

            var run = await api.GetFromJsonAsync<JsonElement>($"api/runs/{runId}");
            Assert.Contains(run.GetProperty("status").GetString(), (string[])["queued", "running", "Queued", "Running"]);
            Assert.Equal(photos, PhotoCount(await api.GetFromJsonAsync<JsonElement>($"api/datasets/{dataSetId}")));
            await api.PostAsync($"api/runs/{runId}/cancel", null);
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "csrf-failure");
            throw new InvalidOperationException($"{e.Message}\nApp log:\n{app.Log}", e);
        }
    }

    const string OpenSocket = """
        url => new Promise(resolve => {
            const socket = new WebSocket(url);
            socket.onopen = () => { socket.close(); resolve("open"); };
            socket.onerror = () => resolve("refused");
        })
        """;

    /// <summary>Photos kept in any state, accepted or rejected: a forged upload would add one either way.</summary>
    internal static int PhotoCount(JsonElement dataSet) =>
        dataSet.GetProperty("class_counts").EnumerateArray().Sum(c => c.GetInt32()) + dataSet.GetProperty("rejected_count").GetInt32();

    static string AttackPage(Uri app, int dataSetId, int runId)
    {
        var socket = new Uri(app, "hubs/training").ToString().Replace("http", "ws", StringComparison.Ordinal);
        return $$"""
            <!DOCTYPE html><html><body><script>
            (async () => {
                const form = new FormData();
                form.append("files", new Blob([Uint8Array.from(atob("{{Convert.ToBase64String(TestImages.Blocks(seed: 77, format: SkiaSharp.SKEncodedImageFormat.Jpeg))}}"), c => c.charCodeAt(0))], { type: "image/jpeg" }), "happy/forged.jpg");
                await fetch("{{new Uri(app, $"api/datasets/{dataSetId}/photos")}}", { method: "POST", body: form, mode: "no-cors", credentials: "include" }).catch(() => {});
                await fetch("{{new Uri(app, $"api/runs/{runId}/cancel")}}", { method: "POST", mode: "no-cors", credentials: "include" }).catch(() => {});
                window.socket = await ({{OpenSocket}})("{{socket}}");
                window.done = true;
            })();
            </script></body></html>
            """;
    }

    [GeneratedRegex(@"Set up the first admin: (http://\S+)")]
    private static partial Regex SetupLinkLine();

    /// <summary>The other site: a page served by an HttpListener on another loopback port.</summary>
    sealed class AttackerSite : IDisposable
    {
        readonly HttpListener _listener = new();

        public AttackerSite()
        {
            var port = FreePort();
            Address = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(Address.ToString());
            _listener.Start();
            _ = ServeAsync();
        }

        public Uri Address { get; }
        public string Html { get; set; } = "";

        async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                var body = Encoding.UTF8.GetBytes(Html);
                context.Response.ContentType = "text/html; charset=utf-8";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }

        static int FreePort()
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        public void Dispose() => _listener.Close();
    }
}
