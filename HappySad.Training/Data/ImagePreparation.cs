using HappySad.Training.Faces;
using HappySad.Training.Persistence;

namespace HappySad.Training.Data;

/// <summary>Which part of a photo a model looks at.</summary>
public enum CropMode
{
    /// <summary>The whole photo, resized to a square ignoring its aspect ratio (the notebook's way).</summary>
    None,

    /// <summary>The face found (the largest, or the happiest-looking with <see cref="Faces.FaceDetection.HappiestFace"/>), or the whole photo when there is none.</summary>
    Face,

    /// <summary>
    /// Two views stacked top to bottom: the face (chosen as for <see cref="Face"/>; all black when
    /// none is found) above the whole photo, so a model can read the expression and still see photos
    /// without a face.
    /// </summary>
    FaceAndWhole,
}

/// <summary>Crop modes as the command line, API and model card spell them: none, face, face-and-whole.</summary>
public static class CropNames
{
    public static string Of(CropMode crop) => crop switch
    {
        CropMode.FaceAndWhole => "face-and-whole",
        _ => crop.ToString().ToLowerInvariant(),
    };

    public static CropMode? Parse(string value) =>
        Enum.GetValues<CropMode>().Select(c => (CropMode?)c).FirstOrDefault(c => string.Equals(Of(c!.Value), value.Trim(), StringComparison.OrdinalIgnoreCase));

    public static IReadOnlyList<string> All { get; } = [.. Enum.GetValues<CropMode>().Select(Of)];
}

/// <summary>
/// How a photo becomes a network's input: decoded, optionally cropped to a face, resized to
/// <see cref="InputSize"/>. Training and prediction both go through this, built from the model card,
/// so a model always sees photos prepared the way it was trained.
/// </summary>
public sealed record ImagePreparation(int InputSize, CropMode Crop = CropMode.None, double FaceMargin = 0, FaceDetection? Detection = null)
{
    public static ImagePreparation Notebook { get; } = new(ImageDecoder.DefaultSize);

    /// <summary>Square views each prepared image holds: two for <see cref="CropMode.FaceAndWhole"/>, else one.</summary>
    public int Views => ViewsOf(Crop);

    /// <summary>Whether preparing looks for faces.</summary>
    public bool DetectsFaces => Crop is CropMode.Face or CropMode.FaceAndWhole;

    /// <summary>How faces are found: <see cref="Detection"/>, or <see cref="FaceDetection.Default"/> when it is not set.</summary>
    public FaceDetection FaceDetection => Detection ?? FaceDetection.Default;

    public static int ViewsOf(CropMode crop) => crop == CropMode.FaceAndWhole ? 2 : 1;

    public static ImagePreparation From(Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        // Cards from before the detector was recorded were all made with the tiny detector's one look.
        var detection = preprocessing.Crop == CropMode.None ? null : preprocessing.FaceDetection ?? FaceDetection.Legacy;
        return new ImagePreparation(preprocessing.InputSize, preprocessing.Crop, preprocessing.FaceMargin, detection);
    }

    /// <summary>Prepares an encoded image held in memory (a file's bytes, or the filled part of a pooled buffer).</summary>
    public DecodedImage Prepare(ReadOnlySpan<byte> bytes, ImageLimits? limits = null) => Crop switch
    {
        CropMode.Face => FaceCrop.Prepare(bytes, InputSize, FaceMargin, limits, FaceDetection),
        CropMode.FaceAndWhole => FaceCrop.PrepareWithWhole(bytes, InputSize, FaceMargin, limits, FaceDetection),
        _ => ImageDecoder.Decode(bytes, InputSize, limits),
    };

    public DecodedImage Prepare(string path, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        return Prepare(ImageDecoder.ReadFile(path, limits), limits);
    }
}
