using System.Net;
using HappySad.Tests.Support;
using HappySad.Web.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Routing;

namespace HappySad.Tests.Web.Accounts;

/// <summary>
/// Every endpoint the app maps, asked by an anonymous client, a Viewer, an Editor and an Admin. An
/// endpoint missing from the table fails the test: a new one cannot slip through unreviewed.
/// </summary>
public sealed class AccessMatrixTests : IDisposable
{
    /// <summary>Who may use an endpoint.</summary>
    public enum Access { Anyone, Viewer, Editor, Admin }

    /// <summary>"METHOD pattern" to (a path to ask, who may). Patterns are the endpoints' own.</summary>
    static readonly Dictionary<string, (string Path, Access Access)> Table = new()
    {
        ["GET /api/datasets"] = ("/api/datasets", Access.Viewer),
        ["GET /api/datasets/{id:int}"] = ("/api/datasets/999", Access.Viewer),
        ["POST /api/datasets/{id:int}/photos"] = ("/api/datasets/999/photos", Access.Editor),
        ["GET /api/photos/{id:int}/thumbnail"] = ("/api/photos/999/thumbnail", Access.Viewer),
        ["GET /api/photos/{id:int}/image"] = ("/api/photos/999/image", Access.Viewer),
        ["GET /api/runs/"] = ("/api/runs", Access.Viewer),
        ["POST /api/runs/"] = ("/api/runs", Access.Editor),
        ["GET /api/runs/{id:int}"] = ("/api/runs/999", Access.Viewer),
        ["PATCH /api/runs/{id:int}"] = ("/api/runs/999", Access.Editor),
        ["POST /api/runs/{id:int}/cancel"] = ("/api/runs/999/cancel", Access.Editor),
        ["DELETE /api/runs/{id:int}"] = ("/api/runs/999", Access.Editor),
        ["GET /api/runs/{id:int}/model"] = ("/api/runs/999/model", Access.Viewer),
        ["GET /api/runs/{id:int}/images/{imageId:int}"] = ("/api/runs/999/images/1", Access.Viewer),
        ["GET /api/models/"] = ("/api/models", Access.Viewer),
        ["GET /api/models/{id}"] = ("/api/models/nope", Access.Viewer),
        ["POST /api/models/{id}/predict"] = ("/api/models/nope/predict", Access.Viewer),
        ["GET /openapi/{documentName}.json"] = ("/openapi/v1.json", Access.Viewer),
        ["GET /scalar/{documentName?}"] = ("/scalar/v1", Access.Viewer),
        ["* /hubs/training/negotiate"] = ("/hubs/training/negotiate?negotiateVersion=1", Access.Viewer),
        ["* /hubs/training"] = ("/hubs/training", Access.Viewer),
        ["* /_blazor/negotiate"] = ("/_blazor/negotiate?negotiateVersion=1", Access.Viewer),
        ["* /_blazor"] = ("/_blazor", Access.Viewer),
        ["* /_blazor/disconnect/"] = ("/_blazor/disconnect/", Access.Viewer),
        ["* /_blazor/initializers/"] = ("/_blazor/initializers/", Access.Viewer),
        ["GET /_framework/opaque-redirect"] = ("/_framework/opaque-redirect", Access.Viewer),
        // Razor components' fallback for a path that looks like a file but is none.
        ["* /{**path:file}"] = ("/no-such-file.txt", Access.Viewer),
        ["POST /account/signout"] = ("/account/signout", Access.Viewer),
        ["* /"] = ("/", Access.Viewer),
        ["* /datasets"] = ("/datasets", Access.Viewer),
        ["* /datasets/{Id:int}"] = ("/datasets/999", Access.Viewer),
        ["* /training"] = ("/training", Access.Viewer),
        ["* /runs"] = ("/runs", Access.Viewer),
        ["* /runs/{Id:int}"] = ("/runs/999", Access.Viewer),
        ["* /runs/compare"] = ("/runs/compare", Access.Viewer),
        ["* /predict"] = ("/predict", Access.Viewer),
        ["* /about"] = ("/about", Access.Viewer),
        ["* /not-found"] = ("/not-found", Access.Viewer),
        ["* /account"] = ("/account", Access.Viewer),
        ["* /account/password"] = ("/account/password", Access.Viewer),
        ["* /users"] = ("/users", Access.Admin),
        ["* /account/signin"] = ("/account/signin", Access.Anyone),
        ["* /account/denied"] = ("/account/denied", Access.Anyone),
        ["* /setup"] = ("/setup?token=wrong", Access.Anyone),
        ["* /error"] = ("/error", Access.Anyone),
    };

    readonly HappySadAppFactory _app = new();

    [Fact]
    public async Task EveryEndpointRefusesWhoItShouldAndServesWhoItShould()
    {
        // Scripts' paths are asked with each role's API token, the dashboard's with its session cookie.
        using var anonymous = _app.CreateClientAs(null);
        using var viewer = _app.CreateClientAs(AppRoles.Viewer);
        using var editor = _app.CreateClientAs(AppRoles.Editor);
        using var admin = _app.CreateClientAs(AppRoles.Admin);
        using var viewerSession = await _app.CreateSignedInClientAsync(AppRoles.Viewer);
        using var editorSession = await _app.CreateSignedInClientAsync(AppRoles.Editor);
        using var adminSession = await _app.CreateSignedInClientAsync(AppRoles.Admin);
        var endpoints = _app.Service<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var unknown = new List<string>();
        var wrong = new List<string>();
        var checkedKeys = new HashSet<string>();
        foreach (var endpoint in endpoints)
        {
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods;
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (IsStaticAsset(endpoint, pattern))
                continue;
            var method = methods is { Count: 1 } ? methods[0] : "*";
            var key = $"{method} {pattern}";
            if (!Table.TryGetValue(key, out var row))
            {
                unknown.Add(key);
                continue;
            }
            if (!checkedKeys.Add(key))
                continue;
            var send = method == "*" ? HttpMethods.Get : method;
            var forTokens = IsForTokens(row.Path);
            foreach (var (client, who) in new (HttpClient Client, Access? Who)[] { (anonymous, null), (forTokens ? viewer : viewerSession, Access.Viewer), (forTokens ? editor : editorSession, Access.Editor), (forTokens ? admin : adminSession, Access.Admin) })
            {
                using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(send), row.Path));
                var allowed = row.Access == Access.Anyone || who is { } role && role >= row.Access;
                var expected = allowed ? "served" : who is null ? Refusal(row.Path) : "403";
                var actual = Outcome(response);
                if (actual != expected)
                    wrong.Add($"{send} {row.Path} as {who?.ToString() ?? "anonymous"}: expected {expected}, got {actual} ({(int)response.StatusCode})");
            }
        }
        Assert.True(unknown.Count == 0, "endpoints missing from the access table:\n" + string.Join("\n", unknown));
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Equal(Table.Keys.Order(), checkedKeys.Order());
    }

    [Fact]
    public async Task StaticAssetsAreServedToAnyone()
    {
        using var anonymous = _app.CreateClientAs(null);
        foreach (var path in (string[])["/_framework/blazor.web.js", "/_content/MudBlazor/MudBlazor.min.css", "/assets/app.css", "/assets/file-transfer.js"])
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task AForeignHostHeaderIsRefused()
    {
        using var client = _app.CreateClient();
        using var foreign = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        foreign.Headers.Host = "rebound.example";
        Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(foreign)).StatusCode);
        using var local = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        local.Headers.Host = "127.0.0.1:5000";
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(local)).StatusCode);
    }

    [Fact]
    public async Task ARevokedTokenNoLongerWorks()
    {
        var token = await _app.CreateUserTokenAsync("script", AppRoles.Viewer);
        using var client = _app.CreateClientAs(null);
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);

        var tokens = _app.Service<ApiTokenService>();
        var user = (await _app.Service<UserAdministration>().ListAsync()).Single(u => u.Name == "script");
        Assert.True(await tokens.RevokeAsync(user.Id, (await tokens.ListAsync(user.Id)).Single().Id));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task ALockedUsersTokenStopsWorking()
    {
        var token = await _app.CreateUserTokenAsync("leaver", AppRoles.Editor);
        using var client = _app.CreateClientAs(null);
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);

        var users = _app.Service<UserAdministration>();
        await users.SetLockedAsync((await users.ListAsync()).Single(u => u.Name == "leaver").Id, locked: true);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    /// <summary>Anyone can type five wrong passwords for a name: that locks signing in, not the owner's tokens.</summary>
    [Fact]
    public async Task WrongPasswordsTypedForANameDoNotStopItsTokens()
    {
        var token = await _app.CreateUserTokenAsync("ana", AppRoles.Editor);
        using var client = _app.CreateClientAs(null);
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);

        using (var scope = _app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
            var ana = (await users.FindByNameAsync("ana"))!;
            for (var i = 0; i < 5; i++)
                await users.AccessFailedAsync(ana);
            Assert.True(await users.IsLockedOutAsync(ana), "five failures should lock signing in");
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
    }

    /// <summary>A token speaks for scripts (the API, the hub), not for the dashboard: it cannot open the account page, where tokens are made, or a circuit.</summary>
    [Fact]
    public async Task ATokenOpensNoPageOfTheDashboard()
    {
        var token = await _app.CreateUserTokenAsync("script", AppRoles.Admin);
        using var client = _app.CreateClientAs(null);
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
        foreach (var page in (string[])["/account", "/users", "/"])
            Assert.NotEqual(HttpStatusCode.OK, (await client.GetAsync(page)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/_blazor/negotiate?negotiateVersion=1", null)).StatusCode);
    }

    /// <summary>Framework and library files (MapStaticAssets), served to anyone: they hold no data.</summary>
    static bool IsStaticAsset(RouteEndpoint endpoint, string pattern) =>
        endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null
        && (pattern.StartsWith("/_framework/", StringComparison.Ordinal) || pattern.StartsWith("/_content/", StringComparison.Ordinal)
            || Path.HasExtension(pattern.Split('/')[^1]));

    static bool IsForTokens(string path) =>
        path.StartsWith("/api/", StringComparison.Ordinal) || path == "/api" || path.StartsWith("/hubs/", StringComparison.Ordinal) || path.StartsWith("/openapi/", StringComparison.Ordinal);

    /// <summary>Scripts and SignalR get 401; a person's page is sent to sign in.</summary>
    static string Refusal(string path) =>
        path.StartsWith("/api", StringComparison.Ordinal) || path.StartsWith("/hubs", StringComparison.Ordinal)
        || path.StartsWith("/_blazor", StringComparison.Ordinal) || path.StartsWith("/openapi", StringComparison.Ordinal)
            ? "401" : "sign-in";

    static string Outcome(HttpResponseMessage response) => response.StatusCode switch
    {
        HttpStatusCode.Unauthorized => "401",
        HttpStatusCode.Forbidden => "403",
        HttpStatusCode.Redirect when response.Headers.Location?.OriginalString.Contains("/account/signin", StringComparison.Ordinal) == true => "sign-in",
        HttpStatusCode.Redirect when response.Headers.Location?.OriginalString.Contains("/account/denied", StringComparison.Ordinal) == true => "403",
        _ => "served",
    };

    public void Dispose() => _app.Dispose();
}
