namespace HappySad.Web.Accounts;

/// <summary>
/// Requests per minute and per user for the endpoints that cost the most (each a token bucket:
/// this many at once, refilled evenly over a minute). Bound from the <c>UserRateLimits</c> section.
/// </summary>
public sealed class UserRateLimits
{
    public const string Uploads = "uploads";
    public const string Predictions = "predictions";
    public const string RunLaunches = "run-launches";

    /// <summary>Upload requests (each up to 20 photos or one zip from the page).</summary>
    public int UploadsPerMinute { get; set; } = 300;

    /// <summary>Prediction requests.</summary>
    public int PredictionsPerMinute { get; set; } = 300;

    /// <summary>Run launches.</summary>
    public int RunLaunchesPerMinute { get; set; } = 10;
}
