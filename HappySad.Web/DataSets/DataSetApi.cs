using HappySad.Training.Data;
using HappySad.Web.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

using HappySad.Web.Accounts;

namespace HappySad.Web.DataSets;

/// <summary>Data sets over HTTP: listing, streaming uploads, thumbnails and full images.</summary>
public static class DataSetApi
{
    public static IEndpointRouteBuilder MapDataSetApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var api = app.MapGroup("/api").WithTags("Data sets");
        api.MapGet("/datasets", ListDataSets).WithName(nameof(ListDataSets)).WithSummary("Every data set with its counts per class");
        api.MapGet("/datasets/{id:int}", GetDataSet).WithName(nameof(GetDataSet)).WithSummary("One data set with its counts per class");
        api.MapPost("/datasets/{id:int}/photos", UploadPhotos).WithName(nameof(UploadPhotos))
            .WithSummary("Upload photos (multipart field 'files'; a .zip is unpacked by its class folders). Optional query 'class' for files outside class folders.")
            .RequireAuthorization(AppPolicies.Edit).RequireRateLimiting(UserRateLimits.Uploads);
        api.MapGet("/photos/{id:int}/thumbnail", GetThumbnail).WithName(nameof(GetThumbnail)).WithSummary("A 160 px JPEG thumbnail");
        api.MapGet("/photos/{id:int}/image", GetImage).WithName(nameof(GetImage)).WithSummary("The stored image");
        return app;
    }

    static async Task<Ok<IReadOnlyList<DataSetSummary>>> ListDataSets(DataSetService dataSets, CancellationToken cancellationToken) =>
        TypedResults.Ok(await dataSets.ListAsync(cancellationToken));

    static async Task<Results<Ok<DataSetSummary>, ProblemHttpResult>> GetDataSet(int id, DataSetService dataSets, CancellationToken cancellationToken) =>
        await dataSets.GetAsync(id, cancellationToken) is { } summary
            ? TypedResults.Ok(summary)
            : NotFound($"data set {id} does not exist");

    /// <summary>
    /// Reads the multipart body section by section and streams each file to disk as it arrives, so
    /// a 1 GB zip passes through a small buffer, never memory.
    /// </summary>
    static async Task<Results<Ok<UploadReport>, ProblemHttpResult>> UploadPhotos(
        int id, string? @class, HttpContext http, PhotoImporter importer, DataSetService dataSets, IOptions<UploadLimits> limits, CancellationToken cancellationToken)
    {
        if (await dataSets.GetAsync(id, cancellationToken) is null)
            return NotFound($"data set {id} does not exist");
        if (MultipartFiles.Open(http, limits.Value.MaxRequestBytes) is not { } reader)
            return TypedResults.Problem("send the photos as multipart/form-data in a field named 'files'", statusCode: StatusCodes.Status400BadRequest);

        var outcomes = new List<UploadOutcome>();
        try
        {
            // Folder uploads name files by their relative path ("sad/x.jpg"), which picks the class.
            var part = 0;
            await foreach (var (fileName, body) in reader.ReadAsync(limits.Value.MaxPartsPerRequest, cancellationToken))
            {
                var index = part++;
                if (PhotoImporter.IsZip(fileName))
                    outcomes.AddRange((await importer.ImportZipAsync(id, fileName, body, @class, cancellationToken)).Select(o => o with { Index = index }));
                else
                    outcomes.Add(await importer.ImportFileAsync(id, fileName, body, @class, cancellationToken) with { Index = index });
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TypedResults.Problem($"the upload is over the {ImageDecoder.FormatBytes(limits.Value.MaxRequestBytes)} request limit; files before the limit were kept",
                statusCode: StatusCodes.Status413PayloadTooLarge, extensions: new Dictionary<string, object?> { ["files"] = outcomes });
        }
        catch (TooManyPartsException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status413PayloadTooLarge, extensions: new Dictionary<string, object?> { ["files"] = outcomes });
        }
        catch (DataSetNotFoundException)
        {
            return NotFound($"data set {id} was deleted during the upload");
        }
        catch (InvalidDataException e)
        {
            return TypedResults.Problem($"the multipart body is malformed ({e.Message}); files before the error were kept",
                statusCode: StatusCodes.Status400BadRequest, extensions: new Dictionary<string, object?> { ["files"] = outcomes });
        }
        return TypedResults.Ok(new UploadReport(outcomes));
    }

    static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> GetThumbnail(int id, DataSetService dataSets, ThumbnailCache thumbnails, HttpContext http, CancellationToken cancellationToken)
    {
        if (await dataSets.GetPhotoAsync(id, cancellationToken) is not { } photo)
            return NotFound($"photo {id} does not exist");
        try
        {
            // Stored names are content hashes, so a photo's thumbnail never changes.
            http.Response.Headers.CacheControl = "private, max-age=31536000, immutable";
            return TypedResults.PhysicalFile(thumbnails.GetOrCreate(photo), "image/jpeg", entityTag: new EntityTagHeaderValue($"\"{photo.StoredName}\""));
        }
        catch (ImageRejectedException e)
        {
            return TypedResults.Problem($"photo {id} cannot be shown: {e.Message}", statusCode: StatusCodes.Status422UnprocessableEntity);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // The exception's message names the absolute path: never sent.
            return NotFound($"photo {id} has no file on disk");
        }
    }

    static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> GetImage(int id, DataSetService dataSets, StoragePaths paths, HttpContext http, CancellationToken cancellationToken)
    {
        if (await dataSets.GetPhotoAsync(id, cancellationToken) is not { } photo)
            return NotFound($"photo {id} does not exist");
        var file = paths.PhotoFile(photo);
        if (!File.Exists(file))
            return NotFound($"photo {id} has no file on disk");
        // The content was checked to be this raster format at upload; never let a browser guess otherwise.
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'";
        return TypedResults.PhysicalFile(file, ContentType(photo.Format), entityTag: new EntityTagHeaderValue($"\"{photo.StoredName}\""));
    }

    static string ContentType(string format) => format switch
    {
        "JPEG" => "image/jpeg",
        "PNG" => "image/png",
        "BMP" => "image/bmp",
        "GIF" => "image/gif",
        "WebP" => "image/webp",
        _ => "application/octet-stream",
    };

    static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound);
}
