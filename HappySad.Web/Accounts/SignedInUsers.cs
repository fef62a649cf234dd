using System.Globalization;
using System.Security.Claims;
using HappySad.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Accounts;

/// <summary>
/// Whether a user who signed in (or sent a token) a while ago still may: the user exists, is not
/// locked by an admin (<see cref="UserAdministration.LockedByAdmin"/>), has the same security stamp (a role, lock or password change renews it) and, when they
/// came with an API token, that token has not been revoked. Long-lived connections (a dashboard
/// tab's circuit, a SignalR client) ask this again and again, since no request passes the sign-in
/// checks after they connect.
/// </summary>
public sealed class SignedInUsers(IServiceScopeFactory scopes, IDbContextFactory<HappySadDbContext> contexts, IOptions<IdentityOptions> identity)
{
    /// <summary>The claim an API token's principal carries: the token's id, so that revoking it can be noticed.</summary>
    public const string TokenIdClaim = "happysad:token";

    /// <summary>How often open connections are checked again.</summary>
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(5);

    public async Task<bool> StillValidAsync(ClaimsPrincipal principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        if (await users.GetUserAsync(principal) is not { } user || UserAdministration.LockedByAdmin(user.LockoutEnabled, user.LockoutEnd))
            return false;
        if (principal.FindFirstValue(identity.Value.ClaimsIdentity.SecurityStampClaimType) != await users.GetSecurityStampAsync(user))
            return false;
        if (principal.FindFirstValue(TokenIdClaim) is not { } token)
            return true;
        var tokenId = int.Parse(token, CultureInfo.InvariantCulture);
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        return await context.ApiTokens.AnyAsync(t => t.Id == tokenId && t.UserId == user.Id, cancellationToken);
    }
}
