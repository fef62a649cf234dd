using System.Net.Http.Headers;
using System.Net.Http.Json;
using HappySad.Web.Api;
using HappySad.Web.DataSets;

namespace HappySad.Tests.Support;

/// <summary>Uploads through the real HTTP endpoint, as the browser does.</summary>
internal static class Multipart
{
    public static MultipartFormDataContent Files(params (string Name, byte[] Bytes)[] files)
    {
        var content = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(part, "files", name);
        }
        return content;
    }

    public static async Task<UploadReport> UploadAsync(HttpClient client, int dataSetId, string? className, params (string Name, byte[] Bytes)[] files)
    {
        using var content = Files(files);
        var query = className is null ? "" : $"?class={className}";
        using var response = await client.PostAsync(new Uri($"/api/datasets/{dataSetId}/photos{query}", UriKind.Relative), content);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<UploadReport>(WireJson.Options))!;
    }
}
