using System.Text.Json.Serialization;

namespace HappySad.Training.Faces;

/// <summary>A face found in an image, in fractions of the image's width and height (0..1), with the detector's confidence.</summary>
public sealed record FaceBox(double X, double Y, double Width, double Height, double Score)
{
    [JsonIgnore]
    public double Right => X + Width;

    [JsonIgnore]
    public double Bottom => Y + Height;

    [JsonIgnore]
    public double Area => Width * Height;

    public double IntersectionOverUnion(FaceBox other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var width = Math.Max(0, Math.Min(Right, other.Right) - Math.Max(X, other.X));
        var height = Math.Max(0, Math.Min(Bottom, other.Bottom) - Math.Max(Y, other.Y));
        var intersection = width * height;
        var union = Area + other.Area - intersection;
        return union <= 0 ? 0 : intersection / union;
    }
}
