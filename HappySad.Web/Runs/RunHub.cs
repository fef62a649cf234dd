using HappySad.Web.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace HappySad.Web.Runs;

/// <summary>
/// Live training progress for any SignalR client at <c>/hubs/training</c>. A client calls
/// <see cref="WatchRun"/> with a run id and hears <c>RunStatusChanged</c>, <c>BatchProgress</c> and
/// <c>EpochCompleted</c> for that run; the call returns the epochs already finished, so a client
/// that joins half way catches up. <see cref="WatchAllRuns"/> hears every run.
/// </summary>
[Authorize(Policy = AppPolicies.View)]
public sealed class RunHub(RunService runs, HubRevalidation revalidation) : Hub<IRunClient>
{
    public const string Path = "/hubs/training";
    public const string AllRunsGroup = "runs";

    public static string RunGroup(int runId) => $"run-{runId}";

    /// <summary>Joins the run's group first and reads its state second, so no epoch falls between the two (one may arrive twice: compare epoch numbers).</summary>
    /// <remarks>Every role may see every run; the check is asked again here, per call, so a user whose role was taken away since connecting hears nothing more.</remarks>
    public async Task<RunCatchUpMessage> WatchRun(int runId)
    {
        if (!AppPolicies.Roles[AppPolicies.View].Any(Context.User!.IsInRole))
            throw new HubException("you may not watch runs");
        await Groups.AddToGroupAsync(Context.ConnectionId, RunGroup(runId));
        return await runs.StateAsync(runId, Context.ConnectionAborted)
            ?? throw new HubException($"run {runId} does not exist");
    }

    public Task UnwatchRun(int runId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, RunGroup(runId));

    public Task WatchAllRuns() => Groups.AddToGroupAsync(Context.ConnectionId, AllRunsGroup);

    public override Task OnConnectedAsync()
    {
        revalidation.Connected(Context);
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        revalidation.Disconnected(Context);
        return base.OnDisconnectedAsync(exception);
    }
}
