using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using HappySad.Tests.Support;
using HappySad.Training.Models;
using HappySad.Web.Cli;
using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>Signing in, signing out, the first-admin link, and another site's page attacking a signed-in user, in Chromium.</summary>
[Collection(BesideUnitTestsEndToEnd.Name)]
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
            await Assertions.Expect(page.GetByTestId("signin-error")).ToHaveTextAsync(HappySad.Web.Components.Pages.Account.SignInPage.FailedMessage);

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
    /// A page on another origin of the same site (another port of the same host, so even a
    /// SameSite=Strict cookie travels) tries its attacks for a signed-in user: the cookie arrives,
    /// and the antiforgery and origin checks refuse each one.
    /// </summary>
    [Fact]
    public Task AnotherOriginsPageCannotActForASignedInUser() =>
        AttackAsync(attackerHost: "127.0.0.1", expected: new()
        {
            ["photos"] = 400, ["cancel"] = 400, ["predict"] = 400, ["negotiate"] = 403,
        });

    /// <summary>
    /// A page on another site, <c>http://attacker.test</c> (Chromium resolves the name to loopback,
    /// as a real DNS record would), tries the same attacks: the SameSite=Strict cookie stays home, so
    /// each is refused as a stranger's. Then it tries DNS rebinding: the app under the attacker's
    /// name is refused by its allowed hosts, in the browser and with a valid token alike.
    /// </summary>
    [Fact]
    public Task AnotherSitesPageCannotActForASignedInUserNorRebindTheAppsName() =>
        AttackAsync(attackerHost: AttackerHost, expected: new()
        {
            ["photos"] = 401, ["cancel"] = 401, ["predict"] = 401, ["negotiate"] = 401,
        });

    const string AttackerHost = "attacker.test";

    /// <summary>
    /// The user's own tab goes to the attacker's page, which posts a photo (multipart), cancels a
    /// running run (bodiless), asks for a prediction, negotiates with the hub and opens a WebSocket to
    /// it to read a run's history. The statuses are the ones Chromium saw; the state is read back
    /// through the API as the legitimate user: the photo count and the run are as they were.
    /// </summary>
    static async Task AttackAsync(string attackerHost, Dictionary<string, int> expected)
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        using (var output = new StringWriter())
        using (var error = new StringWriter())
        using (var sample = SharedPhotos.Subset(perClass: 12))
            Assert.True(await CliApp.RunAsync(["import", "--data", sample.Path, "--name", "target", "--data-dir", app.DataDirectory], output, error) == 0, error.ToString());
        PredictEndToEndTests.SaveUntrained(app, SeedCnn.ArchitectureName, "target.hsmodel");
        await using var browser = await Browser.LaunchAsync($"--host-resolver-rules=MAP {AttackerHost} 127.0.0.1", "--disable-features=HttpsUpgrades");
        var page = await app.NewSignedInPageAsync(browser.Instance, new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString() });
        using var attacker = new AttackerSite(attackerHost);
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
            var modelId = (await api.GetFromJsonAsync<JsonElement>("api/models"))[0].GetProperty("id").GetString()!;
            using var launched = await api.PostAsJsonAsync("api/runs", new { data_set_id = dataSetId, epochs = 500, batch_size = 2 });
            Assert.True(launched.StatusCode == HttpStatusCode.Created, await launched.Content.ReadAsStringAsync());
            var runId = (await launched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();

            // The same hub read from the app's own page works: the refusal below is the attacker's origin's.
            var hub = new Uri(app.BaseAddress, "hubs/training").ToString().Replace("http", "ws", StringComparison.Ordinal);
            Assert.Equal($"read run {runId}", await page.EvaluateAsync<string>(ReadRunOverHub, new object[] { hub, runId }));

            var statuses = new Dictionary<string, int>();
            page.Response += (_, response) =>
            {
                if (response.Url.StartsWith(app.BaseAddress.ToString(), StringComparison.Ordinal) && AttackName(response.Url) is { } name)
                    lock (statuses)
                        statuses[name] = response.Status;
            };
            attacker.Html = AttackPage(app.BaseAddress, dataSetId, runId, modelId);
            await page.GotoAsync(attacker.Address.ToString());
            Assert.Equal(attackerHost, new Uri(page.Url).Host);
            await page.WaitForFunctionAsync("() => window.done === true");
            Assert.Equal("refused", await page.EvaluateAsync<string>("() => window.socket"));
            lock (statuses)
                Assert.Equal(expected.OrderBy(e => e.Key), statuses.OrderBy(s => s.Key));

            var run = await api.GetFromJsonAsync<JsonElement>($"api/runs/{runId}");
            Assert.Contains(run.GetProperty("status").GetString(), (string[])["queued", "running", "Queued", "Running"]);
            Assert.Equal(photos, PhotoCount(await api.GetFromJsonAsync<JsonElement>($"api/datasets/{dataSetId}")));

            if (attackerHost == AttackerHost)
            {
                // DNS rebinding: the attacker's name pointed at the app. The browser gets 400 and no dashboard...
                var rebound = await page.GotoAsync($"http://{AttackerHost}:{app.BaseAddress.Port}/");
                Assert.Equal(400, rebound!.Status);
                Assert.Equal(0, await page.GetByTestId("account-link").CountAsync());
                // ...and so does a request with a valid token: the Host header alone refuses it.
                using var request = new HttpRequestMessage(HttpMethod.Get, "api/runs");
                request.Headers.Host = $"{AttackerHost}:{app.BaseAddress.Port}";
                using var response = await api.SendAsync(request);
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                using var direct = await api.GetAsync("api/runs");
                Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
            }
            await api.PostAsync($"api/runs/{runId}/cancel", null);
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "csrf-failure");
            throw new InvalidOperationException($"{e.Message}\nApp log:\n{app.Log}", e);
        }
    }

    /// <summary>Which of the attack page's requests a response answers.</summary>
    static string? AttackName(string url) =>
        url.Contains("/photos", StringComparison.Ordinal) ? "photos"
        : url.Contains("/cancel", StringComparison.Ordinal) ? "cancel"
        : url.Contains("/predict", StringComparison.Ordinal) ? "predict"
        : url.Contains("/negotiate", StringComparison.Ordinal) ? "negotiate"
        : null;

    /// <summary>
    /// A SignalR client in a few lines (JSON protocol over a WebSocket, no negotiate): handshake, then
    /// <c>WatchRun</c>, whose answer carries the run's state and epoch history.
    /// </summary>
    const string ReadRunOverHub = """
        ([url, runId]) => new Promise(resolve => {
            const socket = new WebSocket(url);
            socket.onerror = () => resolve("refused");
            socket.onclose = () => resolve("closed");
            socket.onopen = () => socket.send(JSON.stringify({ protocol: "json", version: 1 }) + "\x1e");
            socket.onmessage = event => {
                for (const text of event.data.split("\x1e").filter(t => t.length > 0)) {
                    const message = JSON.parse(text);
                    if (message.type === undefined)
                        socket.send(JSON.stringify({ type: 1, invocationId: "0", target: "WatchRun", arguments: [runId] }) + "\x1e");
                    else if (message.type === 3) {
                        resolve(message.error ? "error: " + message.error : "read run " + message.result.run_id);
                        socket.close();
                    }
                }
            };
        })
        """;

    /// <summary>Photos kept in any state, accepted or rejected: a forged upload would add one either way.</summary>
    internal static int PhotoCount(JsonElement dataSet) =>
        dataSet.GetProperty("class_counts").EnumerateArray().Sum(c => c.GetInt32()) + dataSet.GetProperty("rejected_count").GetInt32();

    static string AttackPage(Uri app, int dataSetId, int runId, string modelId)
    {
        var socket = new Uri(app, "hubs/training").ToString().Replace("http", "ws", StringComparison.Ordinal);
        var photo = Convert.ToBase64String(TestImages.Blocks(seed: 77, format: SkiaSharp.SKEncodedImageFormat.Jpeg));
        return $$"""
            <!DOCTYPE html><html><body><script>
            const photo = () => {
                const form = new FormData();
                form.append("files", new Blob([Uint8Array.from(atob("{{photo}}"), c => c.charCodeAt(0))], { type: "image/jpeg" }), "happy/forged.jpg");
                return form;
            };
            const send = (url, body) => fetch(url, { method: "POST", body, mode: "no-cors", credentials: "include" }).catch(() => {});
            (async () => {
                await send("{{new Uri(app, $"api/datasets/{dataSetId}/photos")}}", photo());
                await send("{{new Uri(app, $"api/runs/{runId}/cancel")}}");
                await send("{{new Uri(app, $"api/models/{Uri.EscapeDataString(modelId)}/predict")}}", photo());
                await send("{{new Uri(app, "hubs/training/negotiate?negotiateVersion=1")}}");
                window.socket = await ({{ReadRunOverHub}})(["{{socket}}", {{runId}}]);
                window.done = true;
            })();
            </script></body></html>
            """;
    }

    [GeneratedRegex(@"Set up the first admin: (http://\S+)")]
    private static partial Regex SetupLinkLine();

    /// <summary>
    /// The attacker's site: any request gets <see cref="Html"/>. A bare TCP listener on loopback
    /// answers whatever name the browser used (an HttpListener matches its prefix's host), so the
    /// page can be served as <c>http://attacker.test:PORT</c>.
    /// </summary>
    sealed class AttackerSite : IDisposable
    {
        readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        public AttackerSite(string host)
        {
            _listener.Start();
            Address = new Uri($"http://{host}:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
            _ = ServeAsync();
        }

        public Uri Address { get; }
        public string Html { get; set; } = "";

        async Task ServeAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                _ = AnswerAsync(client);
            }
        }

        async Task AnswerAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                    // The request's head; a GET has no body. A speculative connection that sends nothing ends here.
                    string? line;
                    do
                        line = await reader.ReadLineAsync();
                    while (!string.IsNullOrEmpty(line));
                    if (line is null)
                        return;
                    var body = Encoding.UTF8.GetBytes(Html);
                    var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                    await stream.WriteAsync(head);
                    await stream.WriteAsync(body);
                }
                catch (IOException)
                {
                    // The browser hung up first: nothing to answer.
                }
            }
        }

        public void Dispose() => _listener.Stop();
    }
}
