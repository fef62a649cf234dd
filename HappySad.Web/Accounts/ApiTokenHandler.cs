using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Accounts;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;API token&gt;</c> on what scripts use: the HTTP API, the
/// hub and the API's description (<see cref="ForTokens"/>). A request there that carries the header
/// is judged by it alone (the policy scheme sends it here, never to the cookie), so a script's
/// request never needs, and a browser's forged one never gets, the cookie's rights. The dashboard's
/// pages and their circuit (<c>/_blazor</c>) take the session cookie only: a token cannot open the
/// account page and mint tokens that outlive it, or manage users.
/// </summary>
public sealed class ApiTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokenService tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    const string BearerPrefix = "Bearer ";

    public static bool HasBearer(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="request"/> is one a token speaks for: it carries one, on a path scripts use.</summary>
    public static bool ForTokens(HttpRequest request) =>
        HasBearer(request) && (request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hubs") || request.Path.StartsWithSegments("/openapi"));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!HasBearer(Request))
            return AuthenticateResult.NoResult();
        var token = Request.Headers.Authorization.ToString()[BearerPrefix.Length..].Trim();
        return await tokens.AuthenticateAsync(token, SchemeName, Context.RequestAborted) is { } principal
            ? AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName))
            : AuthenticateResult.Fail("unknown or revoked API token, or its user is locked");
    }
}
