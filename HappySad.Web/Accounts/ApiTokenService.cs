using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using HappySad.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Accounts;

/// <summary>A token as its owner's page lists it: never the token itself.</summary>
public sealed record ApiTokenSummary(int Id, string Name, DateTimeOffset CreatedAt);

/// <summary>
/// API tokens: 32 random bytes shown once, kept as their SHA-256 (a fast hash is enough for a
/// random secret of that size: there is nothing to guess). A token acts as its user, with the role
/// the user has at the time of each request, and stops working when the user is locked or deleted.
/// </summary>
public sealed class ApiTokenService(IDbContextFactory<HappySadDbContext> contexts, IServiceScopeFactory scopes, TimeProvider clock)
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
    public async Task<ClaimsPrincipal?> AuthenticateAsync(string token, string authenticationType, CancellationToken cancellationToken = default)
    {
        var hash = Hash(token);
        ApiTokenOwner? owner;
        await using (var context = await contexts.CreateDbContextAsync(cancellationToken))
            owner = await context.ApiTokens.Where(t => t.Hash == hash).Select(t => new ApiTokenOwner(t.Id, t.UserId)).SingleOrDefaultAsync(cancellationToken);
        if (owner is null)
            return null;
        var (tokenId, userId) = owner;
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        if (await users.FindByIdAsync(userId) is not { } user || await users.IsLockedOutAsync(user))
            return null;
        var principal = await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<IdentityUser>>().CreateAsync(user);
        // The token's id goes with the user, so a connection that outlives the request (the hub) notices its revocation.
        Claim[] tokenClaim = [new(SignedInUsers.TokenIdClaim, tokenId.ToString(CultureInfo.InvariantCulture))];
        return new ClaimsPrincipal(new ClaimsIdentity(principal.Claims.Concat(tokenClaim), authenticationType));
    }

    sealed record ApiTokenOwner(int Id, string UserId);

    static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static string DisplayName(string name) => name.Trim() is { Length: > 0 } trimmed ? trimmed[..Math.Min(trimmed.Length, 100)] : "token";
}
