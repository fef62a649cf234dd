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
        // A form post: UseAntiforgery checks its token, so another site cannot sign the user out.
        app.MapPost(SignOutPath, SignOut).WithName(nameof(SignOut)).WithMetadata(new RequireAntiforgeryTokenAttribute()).ExcludeFromDescription();
        return app;
    }

    static async Task<RedirectHttpResult> SignOut(SignInManager<IdentityUser> signIn)
    {
        await signIn.SignOutAsync();
        return TypedResults.Redirect(SignInPath);
    }
}
