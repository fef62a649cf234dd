using HappySad.Training.Data;
using HappySad.Training.Persistence;
using HappySad.Web.DataSets;
using HappySad.Web.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

using HappySad.Web.Accounts;

namespace HappySad.Web.Predictions;

/// <summary>The verdicts of one predict request, in the order the images were sent.</summary>
public sealed record PredictResponse(string Model, IReadOnlyList<string> ClassNames, IReadOnlyList<ImageVerdict> Files);

/// <summary>Models over HTTP: list them, import a model file, predict with one.</summary>
public static class ModelApi
{
    public static IEndpointRouteBuilder MapModelApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var api = app.MapGroup("/api/models").WithTags("Models and prediction");
        api.MapGet("/", ListModels).WithName(nameof(ListModels)).WithSummary("Models that can predict: succeeded runs (best validation accuracy first), then imported files");
        api.MapGet("/{id}", GetModel).WithName(nameof(GetModel)).WithSummary("One model");
        api.MapPost("/{id}/predict", Predict).WithName(nameof(Predict)).DisableAntiforgery()
            .WithSummary("Label one or many images (multipart field 'files'). Optional query 'threshold' (default 0.5) for the second class.")
            .RequireAuthorization(AppPolicies.View).RequireRateLimiting(UserRateLimits.Predictions)
            .Produces<PredictResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return app;
    }

    static async Task<Ok<IReadOnlyList<ModelInfo>>> ListModels(ModelCatalog catalog, CancellationToken cancellationToken) =>
        TypedResults.Ok(await catalog.ListAsync(cancellationToken));

    static async Task<Results<Ok<ModelInfo>, ProblemHttpResult>> GetModel(string id, ModelCatalog catalog, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await catalog.GetAsync(id, cancellationToken));
        }
        catch (ModelNotFoundException e)
        {
            return Problem(e.Message, StatusCodes.Status404NotFound);
        }
    }

    /// <summary>
    /// Streams the multipart body image by image. Every image gets a verdict; when none could be
    /// labelled the answer is a problem (413 if the first was too large, else 400) listing each reason.
    /// </summary>
    static async Task<Results<Ok<PredictResponse>, ProblemHttpResult>> Predict(
        string id, double? threshold, HttpContext http, ModelCatalog catalog, PredictionService predictions,
        IOptions<UploadLimits> limits, IOptions<PredictionOptions> options, CancellationToken cancellationToken)
    {
        ModelInfo model;
        try
        {
            model = await catalog.GetAsync(id, cancellationToken);
        }
        catch (ModelNotFoundException e)
        {
            return Problem(e.Message, StatusCodes.Status404NotFound);
        }
        if (model.Unusable is { } unusable)
            return Problem($"model '{id}' cannot predict: {unusable}", StatusCodes.Status400BadRequest);
        if (threshold is < 0 or > 1 || (threshold is { } t && double.IsNaN(t)))
            return Problem("threshold must be between 0 and 1", StatusCodes.Status400BadRequest);
        var maxFiles = options.Value.MaxFilesPerRequest;
        var maxRequest = Math.Min(limits.Value.MaxRequestBytes, limits.Value.MaxImageBytes * maxFiles);
        if (MultipartFiles.Open(http, maxRequest) is not { } reader)
            return Problem("send the images as multipart/form-data in a field named 'files'", StatusCodes.Status400BadRequest);

        var verdicts = new List<ImageVerdict>();
        try
        {
            await foreach (var (fileName, body) in reader.ReadAsync(Math.Min(limits.Value.MaxPartsPerRequest, maxFiles + 16), cancellationToken))
            {
                if (verdicts.Count == maxFiles)
                    return Problem($"at most {maxFiles} images per request", StatusCodes.Status413PayloadTooLarge, verdicts);
                var name = Path.GetFileName(fileName);
                verdicts.Add(await predictions.PredictAsync(model, name, body, threshold ?? 0.5, cancellationToken));
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problem($"the request is over the {ImageDecoder.FormatBytes(maxRequest)} limit", StatusCodes.Status413PayloadTooLarge, verdicts);
        }
        catch (InvalidDataException e)
        {
            return Problem($"the multipart body is malformed ({e.Message})", StatusCodes.Status400BadRequest, verdicts);
        }
        catch (TooManyPartsException e)
        {
            return Problem(e.Message, StatusCodes.Status413PayloadTooLarge, verdicts);
        }
        catch (ModelFormatException e)
        {
            return Problem($"model '{id}' cannot be loaded: {e.Message}", StatusCodes.Status400BadRequest);
        }

        if (verdicts.Count == 0)
            return Problem("no image was sent: put one or more in a multipart field named 'files'", StatusCodes.Status400BadRequest);
        if (verdicts.All(v => !v.Ok))
        {
            var first = verdicts[0];
            var status = first.ErrorKind == RejectionKind.TooManyBytes ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;
            return Problem(verdicts.Count == 1 ? $"{first.Name}: {first.Error}" : $"none of the {verdicts.Count} images could be labelled; the first, {first.Name}: {first.Error}", status, verdicts);
        }
        return TypedResults.Ok(new PredictResponse(model.Id, model.ClassNames, verdicts));
    }

    static ProblemHttpResult Problem(string detail, int status, IReadOnlyList<ImageVerdict>? files = null) =>
        TypedResults.Problem(detail, statusCode: status, extensions: files is null ? null : new Dictionary<string, object?> { ["files"] = files });
}
