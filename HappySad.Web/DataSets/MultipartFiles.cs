using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace HappySad.Web.DataSets;

/// <summary>
/// Reads the file parts of a multipart/form-data request one at a time, as they arrive, so large
/// bodies pass through a small buffer. Shared by uploads and predictions.
/// </summary>
internal static class MultipartFiles
{
    /// <summary>A reader over the body, or null when the request is not multipart with a boundary. Raises the body size limit to <paramref name="maxRequestBytes"/>.</summary>
    public static MultipartReader? Open(HttpContext http, long maxRequestBytes)
    {
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return null;
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
            sizeLimit.MaxRequestBodySize = maxRequestBytes;
        return new MultipartReader(boundary, http.Request.Body);
    }

    /// <summary>
    /// Each file part's name as the client sent it (a folder upload's relative path included) and its
    /// body; other parts are skipped but counted: past <paramref name="maxParts"/> parts of any kind,
    /// <see cref="TooManyPartsException"/> stops the request there.
    /// </summary>
    public static async IAsyncEnumerable<(string Name, Stream Body)> ReadAsync(this MultipartReader reader, int maxParts, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var parts = 0;
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (++parts > maxParts)
                throw new TooManyPartsException(maxParts);
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
                continue;
            yield return (HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "unnamed", section.Body);
        }
    }
}

/// <summary>A multipart request carried more parts than <c>UploadLimits.MaxPartsPerRequest</c>.</summary>
public sealed class TooManyPartsException(int maxParts) : Exception($"the request has more than {maxParts:N0} parts, the most one request may carry; files before the limit were kept")
{
    public int MaxParts { get; } = maxParts;
}
