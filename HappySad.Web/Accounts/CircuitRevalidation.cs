using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace HappySad.Web.Accounts;

/// <summary>
/// Checks an open dashboard's user against the database while the page stays open. A circuit takes
/// its user from the cookie once, when it connects, and its clicks and in-page navigation never pass
/// the cookie check again: without this, a user locked, demoted or deleted with a tab open kept every
/// right that tab had until they reloaded it. A changed security stamp (role, lock, password) or a
/// deleted user turns the circuit anonymous, so its pages show "not allowed" and lose their controls.
/// </summary>
public sealed class CircuitRevalidation(ILoggerFactory loggerFactory, SignedInUsers users)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    /// <summary>One indexed lookup per open tab this often: nothing for the handful of users a self-hosted dashboard has.</summary>
    protected override TimeSpan RevalidationInterval => SignedInUsers.RecheckEvery;

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        users.StillValidAsync(authenticationState.User, cancellationToken);
}
