using Microsoft.AspNetCore.Identity;

namespace HappySad.Web.Data;

/// <summary>
/// A token a script sends as <c>Authorization: Bearer</c>, acting as its user with the user's role.
/// Only its SHA-256 is kept: the token itself is shown once, when it is created.
/// </summary>
public sealed class ApiToken
{
    public int Id { get; set; }
    public required string UserId { get; set; }
    public IdentityUser? User { get; set; }

    /// <summary>What the user called it, so they know which one to revoke.</summary>
    public required string Name { get; set; }

    /// <summary>Lower-case hex SHA-256 of the token's text.</summary>
    public required string Hash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
