using System.Threading.RateLimiting;
using HappySad.Web.Accounts;
using HappySad.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace HappySad.Web.Extensions;

public static class AccountExtensions
{
    const string CookieOrBearer = "CookieOrBearer";

    /// <summary>Users, roles and API tokens in the database: for the web app and the <c>users</c> command alike.</summary>
    public static IServiceCollection AddHappySadAccounts(this IServiceCollection services)
    {
        services.AddIdentityCore<IdentityUser>(options =>
            {
                // Length over composition rules (NIST SP 800-63B).
                options.Password.RequiredLength = 8;
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                options.Lockout.AllowedForNewUsers = true;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<HappySadDbContext>();
        services.AddSingleton<UserAdministration>();
        services.AddSingleton<ApiTokenService>();
        return services;
    }

    /// <summary>
    /// Who may do what on the web: the session cookie or an API token (picked by the presence of
    /// <c>Authorization: Bearer</c>), a fallback policy that requires a signed-in user everywhere
    /// not marked otherwise, the role policies, the first-admin link and per-user rate limits.
    /// </summary>
    public static WebApplicationBuilder AddHappySadAccess(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        new IdentityBuilder(typeof(IdentityUser), typeof(IdentityRole), services).AddSignInManager();
        services.AddAuthentication(options => options.DefaultScheme = CookieOrBearer)
            .AddPolicyScheme(CookieOrBearer, "Session cookie, or an API token when one is sent", options =>
                options.ForwardDefaultSelector = http => ApiTokenHandler.ForTokens(http.Request) ? ApiTokenHandler.SchemeName : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(ApiTokenHandler.SchemeName, configureOptions: null)
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(options =>
        {
            options.Cookie.Name = "happysad_session";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.LoginPath = "/account/signin";
            options.AccessDeniedPath = "/account/denied";
            // Scripts and SignalR get a status; only a person's navigation is sent to the sign-in page.
            options.Events.OnRedirectToLogin = context => Refuse(context, StatusCodes.Status401Unauthorized);
            options.Events.OnRedirectToAccessDenied = context => Refuse(context, StatusCodes.Status403Forbidden);
        });
        // Every cookie request checks the user's security stamp, so a locked, demoted or deleted
        // user's next request is refused, not one up to a minute later. The price is a user and
        // roles lookup and a renewed cookie per request: small for a self-hosted dashboard, whose
        // pages talk over one circuit (which CircuitRevalidation checks).
        services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = TimeSpan.Zero);
        services.AddSingleton<SignedInUsers>();
        services.AddScoped<AuthenticationStateProvider, CircuitRevalidation>();
        var authorization = services.AddAuthorizationBuilder();
        foreach (var (policy, roles) in AppPolicies.Roles)
            authorization.AddPolicy(policy, p => p.RequireAuthenticatedUser().RequireRole(roles));
        authorization.SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(AppPolicies.Roles[AppPolicies.View]).Build());
        services.AddCascadingAuthenticationState();
        services.AddAntiforgery(options => options.HeaderName = "RequestVerificationToken");

        services.AddSingleton<FirstAdminSetup>();
        services.AddHostedService(provider => provider.GetRequiredService<FirstAdminSetup>());
        services.AddHostedService<ExposureWarning>();

        services.AddOptions<UserRateLimits>().BindConfiguration(nameof(UserRateLimits));
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Says when to try again (the page's uploads wait that long and send the batch again) and why, as problem details.
            options.OnRejected = async (context, cancellationToken) =>
            {
                var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Results.Problem(
                    detail: $"too many requests from this user for now (UserRateLimits); try again in {seconds} s",
                    statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context.HttpContext);
            };
            options.AddPolicy(UserRateLimits.Uploads, http => PerUser(http, limits => limits.UploadsPerMinute));
            options.AddPolicy(UserRateLimits.Predictions, http => PerUser(http, limits => limits.PredictionsPerMinute));
            options.AddPolicy(UserRateLimits.RunLaunches, http => PerUser(http, limits => limits.RunLaunchesPerMinute));
        });
        return builder;
    }

    static Task Refuse<T>(RedirectContext<T> context, int status) where T : AuthenticationSchemeOptions
    {
        if (RequestGuards.IsMachineRequest(context.Request))
            context.Response.StatusCode = status;
        else
            context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    /// <summary>A bucket per user name: one user's burst cannot slow another's work.</summary>
    static RateLimitPartition<string> PerUser(HttpContext http, Func<UserRateLimits, int> perMinute)
    {
        var limit = Math.Max(1, perMinute(http.RequestServices.GetRequiredService<IOptions<UserRateLimits>>().Value));
        return RateLimitPartition.GetTokenBucketLimiter(http.User.Identity?.Name ?? "", _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / limit,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    /// <summary>Authentication, authorization, the request guards and the rate limiter, in the order they depend on each other.</summary>
    public static WebApplication UseHappySadAccess(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRequestGuards();
        app.UseRateLimiter();
        app.UseAntiforgery();
        return app;
    }
}
