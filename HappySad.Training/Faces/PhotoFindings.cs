using System.Text.Json.Serialization;

namespace HappySad.Training.Faces;

/// <summary>
/// What preparing one photo for a face-reading model found in it: the face it found (null: none) and,
/// for a model that reads them, whether someone raises a hand above their head in a photo without a
/// face or with a small one (<see cref="Faces.RaisedHands"/>). One record a photo, carried unchanged
/// from the preparation through the pixel cache to a data set's load, an evaluation and a verdict, so
/// a new finding is a field here and not a list beside every other.
/// </summary>
public sealed record PhotoFindings(FaceBox? Face = null, bool RaisedHands = false)
{
    /// <summary>Nothing found, or nothing looked for.</summary>
    public static PhotoFindings None { get; } = new();

    /// <summary>Whether the model reads the face: one was found and not set aside for raised hands (<see cref="Faces.RaisedHands.MaxFaceHeight"/>).</summary>
    [JsonIgnore]
    public bool FaceRead => Face is not null && !RaisedHands;
}
