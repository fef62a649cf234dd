using System.ComponentModel.DataAnnotations;

namespace HappySad.Web.Components.Pages.Account;

public sealed class SignInForm
{
    [Required] public string Name { get; set; } = "";
    [Required] public string Password { get; set; } = "";
}

public sealed class NewUserForm
{
    [Required, MaxLength(100)] public string Name { get; set; } = "";
    [Required, MinLength(8, ErrorMessage = "At least 8 characters.")] public string Password { get; set; } = "";
    [Compare(nameof(Password), ErrorMessage = "The passwords differ.")] public string Confirm { get; set; } = "";
}

public sealed class PasswordForm
{
    [Required] public string Current { get; set; } = "";
    [Required, MinLength(8, ErrorMessage = "At least 8 characters.")] public string Password { get; set; } = "";
    [Compare(nameof(Password), ErrorMessage = "The passwords differ.")] public string Confirm { get; set; } = "";
}

internal static class ReturnUrls
{
    /// <summary>Only a path on this site: a sign-in link must not send anyone elsewhere.</summary>
    public static string Local(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";
}
