using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace HappySad.Web.Accounts;

/// <summary>
/// What must be a plain HTTP request because it changes the cookie, which an interactive circuit
/// cannot: signing out (signing in and the first admin are static forms on their pages).
/// </summary>
public static class AccountApi
{
    public const string SignInPath = "/account/signin";
    public const string SignOutPath = "/account/signout";

    public static IEndpointRouteBuilder MapAccountApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost(SignOutPath, SignOut).WithName(nameof(SignOut)).ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// A form post with the page's antiforgery token, checked here: <c>UseAntiforgery</c> only records
    /// its verdict for endpoints that bind a form, and this one binds nothing. Without the check any
    /// site could sign the user out.
    /// </summary>
    static async Task<Results<RedirectHttpResult, ProblemHttpResult>> SignOut(HttpContext http, IAntiforgery antiforgery, SignInManager<IdentityUser> signIn)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Antiforgery token missing or invalid");
        await signIn.SignOutAsync();
        return TypedResults.Redirect(SignInPath);
    }
}
