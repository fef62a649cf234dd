using System.Text.Json;
using HappySad.Training.Training;
using HappySad.Web.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

using HappySad.Web.Accounts;

namespace HappySad.Web.Runs;

/// <summary>Training runs over HTTP: launch, list, read, name, cancel, delete, download the model.</summary>
public static class RunApi
{
    public static IEndpointRouteBuilder MapRunApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var api = app.MapGroup("/api/runs").WithTags("Training runs");
        api.MapGet("/", ListRuns).WithName(nameof(ListRuns)).WithSummary("Every run, newest first");
        // The body is read by hand (the data set beside the recipe); the document still shows the recipe's fields.
        api.MapPost("/", LaunchRun).WithName(nameof(LaunchRun)).Accepts<RunRecipe>("application/json")
            .WithSummary("Queue a run on a data set: data_set_id beside the recipe's fields (each defaulting to the notebook's)")
            .RequireAuthorization(AppPolicies.Edit).RequireRateLimiting(UserRateLimits.RunLaunches);
        api.MapGet("/{id:int}", GetRun).WithName(nameof(GetRun)).WithSummary("One run with its epochs");
        api.MapPatch("/{id:int}", DescribeRun).WithName(nameof(DescribeRun)).WithSummary("Name a run or set its notes: a field left out keeps its value, an empty one clears it")
            .RequireAuthorization(AppPolicies.Edit);
        api.MapPost("/{id:int}/cancel", CancelRun).WithName(nameof(CancelRun)).WithSummary("Cancel a queued run, or stop a running one within one batch")
            .RequireAuthorization(AppPolicies.Edit);
        api.MapDelete("/{id:int}", DeleteRun).WithName(nameof(DeleteRun)).WithSummary("Delete a finished run and its model file")
            .RequireAuthorization(AppPolicies.Edit);
        api.MapGet("/{id:int}/model", DownloadModel).WithName(nameof(DownloadModel)).WithSummary("The model file (.hsmodel: weights + model card)");
        api.MapGet("/{id:int}/images/{imageId:int}", GetTestImage).WithName(nameof(GetTestImage)).WithSummary("A test photo the run got wrong, as the model saw it");
        return app;
    }

    static async Task<Ok<IReadOnlyList<RunDocument>>> ListRuns(RunService runs, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<RunDocument>>([.. (await runs.ListAsync(cancellationToken)).Select(r => RunDocument.From(r, withEpochs: false))]);

    /// <summary>
    /// The body is one object: <c>data_set_id</c> beside the recipe's options, each defaulting to the
    /// notebook's. With <c>preset</c> set, the preset's model and training options replace any given ones.
    /// </summary>
    static async Task<Results<Created<RunDocument>, ValidationProblem, ProblemHttpResult>> LaunchRun(HttpRequest request, IOptions<JsonOptions> json, RunService runs, CancellationToken cancellationToken)
    {
        try
        {
            var options = json.Value.SerializerOptions;
            if (!request.HasJsonContentType())
                throw new RunRecipeException(["The body must be JSON (Content-Type: application/json)."]);
            var body = await request.ReadFromJsonAsync<JsonElement>(options, cancellationToken);
            var (target, recipe) = (body.Deserialize<LaunchTarget>(options), body.Deserialize<RunRecipe>(options));
            if (target is null || recipe is null)
                throw new RunRecipeException(["The body must be a JSON object."]);
            if (recipe.Preset is { } preset)
            {
                recipe = RunRecipe.Presets.Contains(preset)
                    ? recipe.WithPreset(preset)
                    : throw new RunRecipeException([$"Unknown preset '{preset}' (known: {string.Join(", ", RunRecipe.Presets)})."]);
            }
            var run = await runs.LaunchAsync(target.DataSetId, recipe, request.HttpContext.User.Identity?.Name, cancellationToken);
            return TypedResults.Created($"/api/runs/{run.Id}", RunDocument.From(run, withEpochs: true));
        }
        catch (RunRecipeException e)
        {
            return Problem(e.Problems);
        }
        catch (JsonException e)
        {
            return Problem([e.Message]);
        }
        catch (RunQuotaException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many queued runs", detail: e.Message);
        }
    }

    static ValidationProblem Problem(IReadOnlyList<string> problems) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["settings"] = [.. problems] }, detail: string.Join(" ", problems));

    static async Task<Results<Ok<RunDocument>, ProblemHttpResult>> GetRun(int id, RunService runs, CancellationToken cancellationToken) =>
        await runs.GetAsync(id, cancellationToken) is { } run
            ? TypedResults.Ok(RunDocument.From(run, withEpochs: true))
            : NotFound($"run {id} does not exist");

    static async Task<Results<Ok<RunDocument>, ValidationProblem, ProblemHttpResult>> DescribeRun(int id, RunDescription description, RunService runs, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(RunDocument.From(await runs.DescribeAsync(id, description, cancellationToken), withEpochs: true));
        }
        catch (RunDescriptionException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["description"] = [.. e.Problems] }, detail: e.Message);
        }
        catch (RunNotFoundException e)
        {
            return NotFound(e.Message);
        }
    }

    static async Task<Results<Accepted<CancelDocument>, ProblemHttpResult>> CancelRun(int id, RunService runs, CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await runs.CancelAsync(id, cancellationToken);
            return TypedResults.Accepted($"/api/runs/{id}", new CancelDocument(outcome));
        }
        catch (RunNotFoundException e)
        {
            return NotFound(e.Message);
        }
        catch (RunStateException e)
        {
            return Conflict(e.Message);
        }
    }

    public sealed record CancelDocument(CancelOutcome Outcome);

    static async Task<Results<NoContent, ProblemHttpResult>> DeleteRun(int id, RunService runs, CancellationToken cancellationToken)
    {
        try
        {
            await runs.DeleteAsync(id, cancellationToken);
            return TypedResults.NoContent();
        }
        catch (RunNotFoundException e)
        {
            return NotFound(e.Message);
        }
        catch (RunStateException e)
        {
            return Conflict(e.Message);
        }
    }

    static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> DownloadModel(int id, RunService runs, StoragePaths paths, CancellationToken cancellationToken)
    {
        var run = await runs.GetAsync(id, cancellationToken);
        if (run is null)
            return NotFound($"run {id} does not exist");
        if (run.ModelPath is null)
            return NotFound($"run {id} has no model ({run.Status.ToString().ToLowerInvariant()})");
        var file = paths.Absolute(run.ModelPath);
        return File.Exists(file)
            ? TypedResults.PhysicalFile(file, "application/zip", $"happysad-run-{id}{HappySad.Training.Persistence.ModelStore.Extension}")
            : NotFound($"the model file of run {id} is missing from the data directory");
    }

    static Results<PhysicalFileHttpResult, ProblemHttpResult> GetTestImage(int id, int imageId, StoragePaths paths, HttpContext http)
    {
        var file = paths.RunTestImage(id, imageId);
        if (!File.Exists(file))
            return NotFound($"run {id} has no stored test image {imageId}");
        http.Response.Headers.CacheControl = "private, max-age=86400, immutable";
        return TypedResults.PhysicalFile(file, "image/jpeg");
    }

    static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound);

    static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict);
}
