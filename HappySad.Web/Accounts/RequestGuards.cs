using Microsoft.AspNetCore.Antiforgery;

namespace HappySad.Web.Accounts;

/// <summary>What a browser on another site must not get to do with the user's cookie.</summary>
public static class RequestGuards
{
    /// <summary>Requests from scripts and SignalR rather than a person's navigation: refused with a status, never redirected to sign in.</summary>
    public static bool IsMachineRequest(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hubs")
        || request.Path.StartsWithSegments("/_blazor") || request.Path.StartsWithSegments("/openapi");

    /// <summary>
    /// A WebSocket or negotiate request from a page on another origin. Browsers send <c>Origin</c> on
    /// these, and a WebSocket is not bound by CORS: without this check any site the user visits could
    /// open the hub or a circuit with whatever cookie the browser chose to send.
    /// </summary>
    public static bool IsForeignOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
            return false;
        return !Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(uri.Host + ":" + uri.Port, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The refusals, after authentication: foreign origins on the hub and the circuit, and
    /// cookie-authenticated API writes without an antiforgery token (the upload endpoint reads its
    /// body by hand and predict takes a form without binding, so <c>UseAntiforgery</c> checks
    /// neither). A bearer request needs no token: a browser never adds that header by itself.
    /// </summary>
    public static IApplicationBuilder UseRequestGuards(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var request = http.Request;
        if ((request.Path.StartsWithSegments("/hubs") || request.Path.StartsWithSegments("/_blazor")) && IsForeignOrigin(request))
        {
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Cross-origin connection refused",
                detail: "The hub and the dashboard accept connections from their own origin only.").ExecuteAsync(http);
            return;
        }
        if (request.Path.StartsWithSegments("/api") && IsStateChange(request.Method) && http.User.Identity?.IsAuthenticated == true
            && !ApiTokenHandler.HasBearer(request)
            && !await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http))
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Antiforgery token missing or invalid",
                detail: "A request signed in by cookie must send the page's RequestVerificationToken header; scripts use an API token (Authorization: Bearer).").ExecuteAsync(http);
            return;
        }
        await next(http);
    });

    static bool IsStateChange(string method) => !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method));
}
