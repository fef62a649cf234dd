using System.Text.Json;
using System.Text.Json.Serialization;

namespace HappySad.Web.Api;

/// <summary>
/// How JSON looks on every wire the app serves: the HTTP API (and its OpenAPI document) and the
/// SignalR hub. Keys are snake_case, as in model cards and the command line's <c>--json</c>, so a
/// metric is <c>val_loss</c> wherever it is read; crops are spelt as the command line spells them
/// (<c>face-and-whole</c>) and other enums as words.
/// </summary>
public static class WireJson
{
    /// <summary>For clients of the app (tests, <c>bench --api</c>, the pages reading what the browser fetched).</summary>
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        // Crops ahead of the general enum converter, which would write FaceAndWhole.
        options.Converters.Add(new HappySad.Training.Data.CropNameJsonConverter());
        options.Converters.Add(new JsonStringEnumConverter());
        return options;
    }
}
