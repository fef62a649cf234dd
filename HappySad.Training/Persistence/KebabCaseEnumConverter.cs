using System.Text.Json;
using System.Text.Json.Serialization;

namespace HappySad.Training.Persistence;

/// <summary>
/// Writes enum values as the API, the database and the command line's options spell identifiers
/// (<c>face-and-whole</c>, <c>ssd-mobilenet-v1</c>), and reads that, the snake_case that model cards
/// before format 2 wrote (<c>face_and_whole</c>), or the C# name, in any case.
/// </summary>
public sealed class KebabCaseEnumConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(EnumConverter<>).MakeGenericType(typeToConvert))!;

    sealed class EnumConverter<T> : JsonConverter<T> where T : struct, Enum
    {
        static readonly Dictionary<T, string> Written = Enum.GetValues<T>().Distinct().ToDictionary(v => v, v => JsonNamingPolicy.KebabCaseLower.ConvertName(v.ToString()));

        static readonly Dictionary<string, T> Parsed = Enum.GetValues<T>().Distinct().ToDictionary(v => Plain(v.ToString()), StringComparer.OrdinalIgnoreCase);

        static string Plain(string name) => name.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String && reader.GetString() is { } text && Parsed.TryGetValue(Plain(text), out var value)
                ? value
                : throw new JsonException($"{typeof(T).Name} must be one of {string.Join(", ", Written.Values)}");

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            ArgumentNullException.ThrowIfNull(writer);
            writer.WriteStringValue(Written.TryGetValue(value, out var name) ? name : JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString()));
        }
    }
}
