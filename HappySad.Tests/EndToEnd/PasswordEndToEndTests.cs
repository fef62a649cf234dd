using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>Changing one's password and the lockout after wrong ones, in Chromium.</summary>
[Collection(BesideUnitTestsEndToEnd.Name)]
public sealed class PasswordEndToEndTests
{
    const string OldPassword = "pat's first password";
    const string NewPassword = "pat's second password";

    [Fact]
    public async Task AChangedPasswordSignsInAndTheOldOneNoLongerDoes()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        await app.AddUserAsync("pat", "Editor", OldPassword);
        await using var browser = await Browser.LaunchAsync();
        var options = new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString() };
        var page = await browser.Instance.NewPageAsync(options);
        try
        {
            await app.SignInAsync(page, "pat", OldPassword);
            await page.GotoAsync("/account");
            await page.GetByTestId("change-password").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Uri(app.BaseAddress, "account/password").ToString());

            await ChangeAsync(page, current: "not my password", NewPassword);
            await Assertions.Expect(page.GetByTestId("password-error")).ToHaveTextAsync("Incorrect password.");
            await Assertions.Expect(page.GetByTestId("password-changed")).ToHaveCountAsync(0);
            await Browser.ScreenshotAsync(page, "password-01-wrong-current");

            await ChangeAsync(page, current: OldPassword, NewPassword);
            await Assertions.Expect(page.GetByTestId("password-changed")).ToBeVisibleAsync();
            // This browser stays signed in with a fresh cookie.
            await page.GotoAsync("/account");
            await Assertions.Expect(page.GetByTestId("account-name")).ToHaveTextAsync("pat");

            var other = await browser.Instance.NewPageAsync(options);
            await TrySignInAsync(other, "pat", OldPassword);
            await Assertions.Expect(other.GetByTestId("signin-error")).ToHaveTextAsync(HappySad.Web.Components.Pages.Account.SignInPage.FailedMessage);
            await TrySignInAsync(other, "pat", NewPassword);
            await Assertions.Expect(other.GetByTestId("account-link")).ToHaveTextAsync("pat");
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "password-failure");
            throw new InvalidOperationException($"{e.Message}\nApp log:\n{app.Log}", e);
        }
    }

    /// <summary>Five wrong passwords in a row (the configured count) lock the account: then even the right one is refused, with the words every refusal gets.</summary>
    [Fact]
    public async Task FiveWrongPasswordsLockTheAccountAndTheMessageNamesNoAccount()
    {
        Assertions.SetDefaultExpectTimeout(20_000);
        await using var app = await AppProcess.StartAsync();
        await app.AddUserAsync("pat", "Viewer", OldPassword);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.Instance.NewPageAsync(new BrowserNewPageOptions { BaseURL = app.BaseAddress.ToString() });
        try
        {
            for (var attempt = 1; attempt <= 4; attempt++)
            {
                await TrySignInAsync(page, "pat", $"wrong guess {attempt}");
                await Assertions.Expect(page.GetByTestId("signin-error")).ToHaveTextAsync(HappySad.Web.Components.Pages.Account.SignInPage.FailedMessage);
            }
            await TrySignInAsync(page, "pat", "wrong guess 5");
            await Assertions.Expect(page.GetByTestId("signin-error")).ToHaveTextAsync(HappySad.Web.Components.Pages.Account.SignInPage.FailedMessage);
            // Locked: now even the right password is refused, with the same words (they tell no stranger which names exist).
            await TrySignInAsync(page, "pat", OldPassword);
            await Assertions.Expect(page.GetByTestId("signin-error")).ToHaveTextAsync(HappySad.Web.Components.Pages.Account.SignInPage.FailedMessage);
            await Assertions.Expect(page).ToHaveURLAsync(new Uri(app.BaseAddress, "account/signin").ToString());
            await Browser.ScreenshotAsync(page, "password-02-locked");

            // Another user's wrong guesses are their own.
            await app.SignInAsync(page);
            await Assertions.Expect(page.GetByTestId("account-link")).ToHaveTextAsync(AppProcess.UserName);
        }
        catch (Exception e)
        {
            await Browser.ScreenshotAsync(page, "lockout-failure");
            throw new InvalidOperationException($"{e.Message}\nApp log:\n{app.Log}", e);
        }
    }

    static async Task ChangeAsync(IPage page, string current, string password)
    {
        await page.GetByTestId("password-current").FillAsync(current);
        await page.GetByTestId("password-new").FillAsync(password);
        await page.GetByTestId("password-confirm").FillAsync(password);
        await page.GetByTestId("password-submit").ClickAsync();
    }

    static async Task TrySignInAsync(IPage page, string name, string password)
    {
        await page.GotoAsync("/account/signin");
        await page.GetByTestId("signin-name").FillAsync(name);
        await page.GetByTestId("signin-password").FillAsync(password);
        await page.GetByTestId("signin-submit").ClickAsync();
    }
}
