using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using HappySad.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Accounts;

/// <summary>A token as its owner's page lists it: never the token itself.</summary>
public sealed record ApiTokenSummary(int Id, string Name, DateTimeOffset CreatedAt);

/// <summary>
/// API tokens: 32 random bytes shown once, kept as their SHA-256 (a fast hash is enough for a
/// random secret of that size: there is nothing to guess). A token acts as its user, with the role
/// the user has at the time of each request, and stops working when the user is locked or deleted.
/// </summary>
public sealed class ApiTokenService(IDbContextFactory<HappySadDbContext> contexts, IOptions<IdentityOptions> identity, TimeProvider clock)
{
    /// <summary>Marks tokens so that a leaked one is recognisable in logs and secret scanners.</summary>
    const string Prefix = "hs_";

    /// <returns>The token's text, which is not stored and cannot be shown again.</returns>
    public async Task<string> CreateAsync(string userId, string name, CancellationToken cancellationToken = default)
    {
        var token = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        context.ApiTokens.Add(new ApiToken { UserId = userId, Name = DisplayName(name), Hash = Hash(token), CreatedAt = clock.GetUtcNow() });
        await context.SaveChangesAsync(cancellationToken);
        return token;
    }

    public async Task<IReadOnlyList<ApiTokenSummary>> ListAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        return await context.ApiTokens.Where(t => t.UserId == userId).OrderBy(t => t.Id)
            .Select(t => new ApiTokenSummary(t.Id, t.Name, t.CreatedAt)).ToListAsync(cancellationToken);
    }

    /// <returns>False when the user has no such token.</returns>
    public async Task<bool> RevokeAsync(string userId, int tokenId, CancellationToken cancellationToken = default)
    {
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        return await context.ApiTokens.Where(t => t.UserId == userId && t.Id == tokenId).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    /// <summary>The token's user as a principal of <paramref name="authenticationType"/>; null for an unknown token or a locked user.</summary>
    /// <remarks>
    /// Every API request passes here, so the token, its user and the user's roles come back in one
    /// query, and the claims are the ones Identity's principal factory makes for a cookie (id, name,
    /// email, security stamp, roles; the app gives users and roles no claims of their own) plus the
    /// token's id. Going through the user manager and the factory cost six queries a request.
    /// </remarks>
    public async Task<ClaimsPrincipal?> AuthenticateAsync(string token, string authenticationType, CancellationToken cancellationToken = default)
    {
        var hash = Hash(token);
        TokenUser? found;
        await using (var context = await contexts.CreateDbContextAsync(cancellationToken))
        {
            found = await (
                from t in context.ApiTokens
                where t.Hash == hash
                join u in context.Users on t.UserId equals u.Id
                select new TokenUser(t.Id, u.Id, u.UserName, u.Email, u.SecurityStamp, u.LockoutEnabled, u.LockoutEnd,
                    context.UserRoles.Where(r => r.UserId == u.Id).Join(context.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name).ToList()))
                .AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        }
        // An admin's lock, not the lockout wrong passwords earn, which anyone could trigger for this name.
        if (found is null || UserAdministration.LockedByAdmin(found.LockoutEnabled, found.LockoutEnd))
            return null;
        var claimTypes = identity.Value.ClaimsIdentity;
        List<Claim> claims = [new(claimTypes.UserIdClaimType, found.UserId), new(claimTypes.UserNameClaimType, found.UserName ?? "")];
        if (found.Email is { } email)
            claims.Add(new(claimTypes.EmailClaimType, email));
        if (found.SecurityStamp is { } stamp)
            claims.Add(new(claimTypes.SecurityStampClaimType, stamp));
        claims.AddRange(found.Roles.OfType<string>().Select(role => new Claim(claimTypes.RoleClaimType, role)));
        // The token's id goes with the user, so a connection that outlives the request (the hub) notices its revocation.
        claims.Add(new(SignedInUsers.TokenIdClaim, found.TokenId.ToString(CultureInfo.InvariantCulture)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType, claimTypes.UserNameClaimType, claimTypes.RoleClaimType));
    }

    sealed record TokenUser(int TokenId, string UserId, string? UserName, string? Email, string? SecurityStamp, bool LockoutEnabled, DateTimeOffset? LockoutEnd, List<string?> Roles);

    static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static string DisplayName(string name) => name.Trim() is { Length: > 0 } trimmed ? trimmed[..Math.Min(trimmed.Length, 100)] : "token";
}
