using System.Text.Json;
using System.Text.Json.Serialization;

namespace HappySad.Training.Data;

/// <summary>Reads and writes crop modes as the command line and run records spell them: none, face, face-and-whole.</summary>
public sealed class CropNameJsonConverter : JsonConverter<CropMode>
{
    public override CropMode Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetString() is { } text && CropNames.Parse(text) is { } crop
            ? crop
            : throw new JsonException($"crop must be one of {string.Join(", ", CropNames.All)}");

    public override void Write(Utf8JsonWriter writer, CropMode value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(CropNames.Of(value));
    }
}
