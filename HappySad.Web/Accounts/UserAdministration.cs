using HappySad.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace HappySad.Web.Accounts;

/// <summary>A user as the users page lists it.</summary>
public sealed record UserSummary(string Id, string Name, string Role, bool LockedOut);

/// <summary>A refusal worth showing to the person who asked: a weak password, a taken name.</summary>
public sealed class AccountException(string message) : Exception(message);

/// <summary>
/// Creating and changing users, for the setup page, the users page and the <c>users</c> command.
/// Each operation opens its own scope (one <see cref="UserManager{TUser}"/> and DbContext per
/// operation), so a long-lived circuit never works on stale rows. A change that takes rights away
/// renews the user's security stamp, so their cookie stops working at its next validation.
/// </summary>
public sealed class UserAdministration(IServiceScopeFactory scopes, IDbContextFactory<HappySadDbContext> contexts)
{
    public async Task<bool> AnyUsersAsync(CancellationToken cancellationToken = default)
    {
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        return await context.Users.AnyAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<UserSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var users = await context.Users.OrderBy(u => u.UserName).ToListAsync(cancellationToken);
        var roles = await context.UserRoles.Join(context.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => new { ur.UserId, r.Name })
            .ToListAsync(cancellationToken);
        return [.. users.Select(u => new UserSummary(u.Id, u.UserName!,
            AppRoles.All.FirstOrDefault(role => roles.Any(r => r.UserId == u.Id && r.Name == role)) ?? AppRoles.Viewer,
            u.LockoutEnd is { } end && end > DateTimeOffset.UtcNow))];
    }

    public Task<UserSummary> CreateAsync(string name, string role, string password) => WithUsersAsync(async (services, users) =>
    {
        var spelled = AppRoles.Find(role) ?? throw new AccountException($"unknown role '{role}' (known: {string.Join(", ", AppRoles.All)})");
        var user = new IdentityUser(name.Trim());
        Check(await users.CreateAsync(user, password));
        await EnsureRoleAsync(services, spelled);
        Check(await users.AddToRoleAsync(user, spelled));
        return new UserSummary(user.Id, user.UserName!, spelled, LockedOut: false);
    });

    public Task SetRoleAsync(string userId, string role) => WithUserAsync(userId, async (services, users, user) =>
    {
        var spelled = AppRoles.Find(role) ?? throw new AccountException($"unknown role '{role}'");
        await EnsureRoleAsync(services, spelled);
        Check(await users.RemoveFromRolesAsync(user, await users.GetRolesAsync(user)));
        Check(await users.AddToRoleAsync(user, spelled));
        Check(await users.UpdateSecurityStampAsync(user));
    });

    public Task ResetPasswordAsync(string userId, string password) => WithUserAsync(userId, async (_, users, user) =>
    {
        // Check the new password before the old one is gone.
        foreach (var validator in users.PasswordValidators)
            Check(await validator.ValidateAsync(users, user, password));
        if (await users.HasPasswordAsync(user))
            Check(await users.RemovePasswordAsync(user));
        Check(await users.AddPasswordAsync(user, password));
        Check(await users.ResetAccessFailedCountAsync(user));
        Check(await users.SetLockoutEndDateAsync(user, null));
    });

    /// <summary>
    /// Whether a user's lockout is an admin's lock (<see cref="SetLockedAsync"/>: until unlocked), not
    /// the 15 minutes that wrong passwords earn. Only an admin's lock stops the user's open tabs and API
    /// tokens: anyone can type five wrong passwords for a name, and that must not cut its owner off.
    /// (By the year: PostgreSQL keeps microseconds, so the end read back is not exactly the maximum.)
    /// </summary>
    public static bool LockedByAdmin(bool lockoutEnabled, DateTimeOffset? lockoutEnd) =>
        lockoutEnabled && lockoutEnd is { } end && end.Year == DateTimeOffset.MaxValue.Year;

    /// <summary>Locked until unlocked: sign-in refuses them and their API tokens stop working.</summary>
    public Task SetLockedAsync(string userId, bool locked) => WithUserAsync(userId, async (_, users, user) =>
    {
        Check(await users.SetLockoutEnabledAsync(user, true));
        Check(await users.SetLockoutEndDateAsync(user, locked ? DateTimeOffset.MaxValue : null));
        Check(await users.UpdateSecurityStampAsync(user));
    });

    public Task DeleteAsync(string userId) => WithUserAsync(userId, async (_, users, user) => Check(await users.DeleteAsync(user)));

    /// <summary>Roles exist from the first time a user is given one: nothing to seed.</summary>
    static async Task EnsureRoleAsync(IServiceProvider services, string role)
    {
        var roles = services.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(role))
            Check(await roles.CreateAsync(new IdentityRole(role)));
    }

    async Task WithUserAsync(string userId, Func<IServiceProvider, UserManager<IdentityUser>, IdentityUser, Task> change) =>
        await WithUsersAsync(async (services, users) =>
        {
            var user = await users.FindByIdAsync(userId) ?? throw new AccountException("that user no longer exists");
            await change(services, users, user);
            return true;
        });

    async Task<T> WithUsersAsync<T>(Func<IServiceProvider, UserManager<IdentityUser>, Task<T>> work)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await work(scope.ServiceProvider, scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>());
    }

    static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
            throw new AccountException(string.Join(" ", result.Errors.Select(e => e.Description)));
    }
}
