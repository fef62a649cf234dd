using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>
/// Lets an upload's first request through and holds the others until released: the page is then
/// mid-upload for as long as the test needs.
/// </summary>
internal sealed class UploadGate
{
    const string Photos = "**/api/datasets/*/photos*";
    readonly IPage _page;
    readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _requests;

    UploadGate(IPage page) => _page = page;

    /// <summary>Completes once a request is being held; fails after a minute, as when everything went in one request.</summary>
    public Task Held => _held.Task.WaitAsync(TimeSpan.FromMinutes(1));

    public static async Task<UploadGate> InstallAsync(IPage page)
    {
        var gate = new UploadGate(page);
        await page.RouteAsync(Photos, gate.HandleAsync);
        return gate;
    }

    async Task HandleAsync(IRoute route)
    {
        if (Interlocked.Increment(ref _requests) > 1)
        {
            _held.TrySetResult();
            await _release.Task;
        }
        await route.ContinueAsync();
    }

    /// <summary>Lets the held requests and all later ones through.</summary>
    public async Task ReleaseAsync()
    {
        await _page.UnrouteAsync(Photos, HandleAsync);
        _release.TrySetResult();
    }

    /// <summary>For requests the page gave up on: nothing of them is sent.</summary>
    public Task RemoveAsync() => _page.UnrouteAllAsync(new() { Behavior = UnrouteBehavior.IgnoreErrors });
}
