namespace HappySad.Web.Accounts;

/// <summary>
/// The three roles, each a superset of the next: an Admin can do what an Editor can, an Editor what a
/// Viewer can. A user holds exactly one, so "set role" is one choice and the first admin can use the
/// whole dashboard.
/// </summary>
public static class AppRoles
{
    /// <summary>Manages users (and does everything an Editor does).</summary>
    public const string Admin = nameof(Admin);

    /// <summary>Uploads, trains, cancels and deletes (and does everything a Viewer does).</summary>
    public const string Editor = nameof(Editor);

    /// <summary>Browses data sets and runs, and predicts.</summary>
    public const string Viewer = nameof(Viewer);

    /// <summary>Most powerful first.</summary>
    public static IReadOnlyList<string> All { get; } = [Admin, Editor, Viewer];

    /// <summary>The role as spelled here, whatever its case; null when there is no such role.</summary>
    public static string? Find(string? name) => All.FirstOrDefault(r => string.Equals(r, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The authorization policies endpoints, the hub and pages ask for.</summary>
public static class AppPolicies
{
    /// <summary>Any signed-in user: browse and predict. Also the fallback for everything not marked otherwise.</summary>
    public const string View = nameof(View);

    /// <summary>Upload, train, cancel, delete.</summary>
    public const string Edit = nameof(Edit);

    /// <summary>Manage users.</summary>
    public const string ManageUsers = nameof(ManageUsers);

    /// <summary>The roles that satisfy each policy.</summary>
    public static IReadOnlyDictionary<string, string[]> Roles { get; } = new Dictionary<string, string[]>
    {
        [View] = [AppRoles.Admin, AppRoles.Editor, AppRoles.Viewer],
        [Edit] = [AppRoles.Admin, AppRoles.Editor],
        [ManageUsers] = [AppRoles.Admin],
    };
}
