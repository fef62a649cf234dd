using System.Text.Json;
using System.Threading.Channels;
using HappySad.Training.Data;
using HappySad.Training.Persistence;
using HappySad.Web.Api;
using HappySad.Web.DataSets;
using HappySad.Web.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
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
            .WithSummary("Label one or many images (multipart field 'files'). Optional query 'threshold' (default 0.5) for the second class. "
                + "With 'Accept: application/x-ndjson' the answer streams: one JSON line per image as it finishes.")
            .RequireAuthorization(AppPolicies.View).RequireRateLimiting(UserRateLimits.Predictions)
            .Produces<PredictResponse>().Produces<ImageVerdict>(StatusCodes.Status200OK, NdJson).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
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
    /// A client that accepts <c>application/x-ndjson</c> gets the verdicts streamed instead (<see cref="StreamVerdictsAsync"/>).
    /// </summary>
    static async Task<Results<Ok<PredictResponse>, PushStreamHttpResult, ProblemHttpResult>> Predict(
        string id, double? threshold, HttpContext http, ModelCatalog catalog, PredictionService predictions,
        IOptions<UploadLimits> limits, IOptions<PredictionOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
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
        if (WantsStream(http.Request))
            maxRequest = limits.Value.MaxRequestBytes;
        if (MultipartFiles.Open(http, maxRequest) is not { } reader)
            return Problem("send the images as multipart/form-data in a field named 'files'", StatusCodes.Status400BadRequest);
        if (WantsStream(http.Request))
        {
            var inFlight = options.Value.MaxBatchSize;
            var logger = loggers.CreateLogger(typeof(ModelApi));
            return TypedResults.Stream(output => StreamVerdictsAsync(output, reader, model, predictions, threshold ?? 0.5, limits.Value, inFlight, logger, cancellationToken), NdJson);
        }

        var verdicts = new List<ImageVerdict>();
        try
        {
            await foreach (var (fileName, body) in reader.ReadAsync(Math.Min(limits.Value.MaxPartsPerRequest, maxFiles + 16), cancellationToken))
            {
                if (verdicts.Count == maxFiles)
                    return Problem($"at most {maxFiles} images per request", StatusCodes.Status413PayloadTooLarge, verdicts, model);
                var name = Path.GetFileName(fileName);
                verdicts.Add(await predictions.PredictAsync(model, name, body, threshold ?? 0.5, cancellationToken) with { Index = verdicts.Count });
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problem($"the request is over the {ImageDecoder.FormatBytes(maxRequest)} limit", StatusCodes.Status413PayloadTooLarge, verdicts, model);
        }
        catch (InvalidDataException e)
        {
            return Problem($"the multipart body is malformed ({e.Message})", StatusCodes.Status400BadRequest, verdicts, model);
        }
        catch (TooManyPartsException e)
        {
            return Problem(e.Message, StatusCodes.Status413PayloadTooLarge, verdicts, model);
        }
        catch (ModelFormatException e)
        {
            return Problem($"model '{id}' cannot be loaded: {e.Message}", StatusCodes.Status400BadRequest);
        }
        catch (FileNotFoundException)
        {
            return Problem($"model '{id}' does not exist", StatusCodes.Status404NotFound);
        }

        if (verdicts.Count == 0)
            return Problem("no image was sent: put one or more in a multipart field named 'files'", StatusCodes.Status400BadRequest);
        if (verdicts.All(v => !v.Ok))
        {
            var first = verdicts[0];
            var status = first.ErrorKind == RejectionKind.TooManyBytes ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;
            return Problem(verdicts.Count == 1 ? $"{first.Name}: {first.Error}" : $"none of the {verdicts.Count} images could be labelled; the first, {first.Name}: {first.Error}", status, verdicts, model);
        }
        return TypedResults.Ok(new PredictResponse(model.Id, model.ClassNames, verdicts));
    }

    /// <summary>
    /// Reads the parts one after another and labels up to <paramref name="inFlight"/> at once (so they
    /// share the model's batches), writing each verdict as one JSON line, flushed, the moment it is
    /// ready. A bad image is its own line with its <c>error</c>; a request-wide failure after the
    /// answer began (too many parts, too many bytes, a malformed body) is a last line with
    /// <c>error</c> and <c>status</c> and no <c>name</c>. The answer has begun with 200 by then, so
    /// a failure of the server's own while labelling one image is that image's error line (and the
    /// log's), never a stream cut off without its last lines.
    /// </summary>
    static async Task StreamVerdictsAsync(Stream output, MultipartReader reader, ModelInfo model, PredictionService predictions, double threshold, UploadLimits limits, int inFlight, ILogger logger, CancellationToken cancellationToken)
    {
        var finished = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        var writing = WriteLinesAsync(output, finished.Reader, cancellationToken);
        using var slots = new SemaphoreSlim(Math.Max(1, inFlight));
        var labelling = new List<Task>();
        try
        {
            var index = 0;
            await foreach (var (fileName, body) in reader.ReadAsync(limits.MaxPartsPerRequest, cancellationToken))
            {
                await slots.WaitAsync(cancellationToken);
                var upload = await predictions.ReadAsync(Path.GetFileName(fileName), index++, body, cancellationToken);
                labelling.Add(LabelAsync(upload));
            }
            if (index == 0)
                finished.Writer.TryWrite(new StreamProblem("no image was sent: put one or more in a multipart field named 'files'", StatusCodes.Status400BadRequest));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await Task.WhenAll(labelling);
            finished.Writer.TryWrite(new StreamProblem($"the request is over the {ImageDecoder.FormatBytes(limits.MaxRequestBytes)} limit", StatusCodes.Status413PayloadTooLarge));
        }
        catch (InvalidDataException e)
        {
            await Task.WhenAll(labelling);
            finished.Writer.TryWrite(new StreamProblem($"the multipart body is malformed ({e.Message})", StatusCodes.Status400BadRequest));
        }
        catch (TooManyPartsException e)
        {
            await Task.WhenAll(labelling);
            finished.Writer.TryWrite(new StreamProblem(e.Message, StatusCodes.Status413PayloadTooLarge));
        }
        finally
        {
            try
            {
                await Task.WhenAll(labelling);
            }
            finally
            {
                finished.Writer.TryComplete();
                await writing;
            }
        }

        async Task LabelAsync(UploadedImage upload)
        {
            try
            {
                finished.Writer.TryWrite(await predictions.PredictAsync(model, upload, threshold, cancellationToken));
            }
            catch (ModelFormatException e)
            {
                finished.Writer.TryWrite(new ImageVerdict(upload.Name, null, null, null, 0, $"model '{model.Id}' cannot be loaded: {e.Message}", null) { Index = upload.Index });
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Labelling {Name} with model {Model} failed", upload.Name, model.Id);
                finished.Writer.TryWrite(new ImageVerdict(upload.Name, null, null, null, 0, "the server failed to label this image (its log has the reason)", null) { Index = upload.Index });
            }
            finally
            {
                slots.Release();
            }
        }
    }

    static async Task WriteLinesAsync(Stream output, ChannelReader<object> lines, CancellationToken cancellationToken)
    {
        await foreach (var line in lines.ReadAllAsync(cancellationToken))
        {
            await JsonSerializer.SerializeAsync(output, line, line.GetType(), WireJson.Options, cancellationToken);
            await output.WriteAsync(LineEnd, cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
    }

    static bool WantsStream(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(NdJson, StringComparison.OrdinalIgnoreCase));

    const string NdJson = "application/x-ndjson";

    static readonly ReadOnlyMemory<byte> LineEnd = "\n"u8.ToArray();

    /// <summary>The last line of a streamed answer when the request as a whole failed after the answer began.</summary>
    sealed record StreamProblem(string Error, int Status);

    /// <summary>A refusal; one that kept some photos answers for them as a success would (their verdicts, the model and its class names).</summary>
    static ProblemHttpResult Problem(string detail, int status, IReadOnlyList<ImageVerdict>? files = null, ModelInfo? model = null) =>
        TypedResults.Problem(detail, statusCode: status, extensions: files is null ? null : new Dictionary<string, object?>
        {
            ["files"] = files,
            ["model"] = model?.Id,
            ["class_names"] = model?.ClassNames,
        });
}
