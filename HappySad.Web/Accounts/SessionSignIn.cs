using System.Net;
using System.Text.RegularExpressions;

namespace HappySad.Web.Accounts;

/// <summary>
/// Signs an <see cref="HttpClient"/> in with the session cookie the way a person's browser does: the
/// sign-in form, with the antiforgery token its page carries. For programs that time or test the
/// dashboard's pages (<c>bench --scale</c>, the tests), which an API token does not open. The client
/// must keep cookies and must not follow redirects.
/// </summary>
public static partial class SessionSignIn
{
    public static async Task SignInAsync(HttpClient client, string name, string password, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var form = await client.GetStringAsync("account/signin", cancellationToken);
        if (AntiforgeryField().Match(form) is not { Success: true } antiforgery)
            throw new InvalidOperationException("the sign-in page carries no antiforgery token");
        using var response = await client.PostAsync("account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(antiforgery.Groups[1].Value),
            ["Form.Name"] = name,
            ["Form.Password"] = password,
        }), cancellationToken);
        // Signed in, the form redirects away; refused, it answers the form again.
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString.Contains("/account/signin", StringComparison.Ordinal) != false)
            throw new InvalidOperationException($"signing in as {name} failed ({(int)response.StatusCode})");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
