using HappySad.Training.Faces;
using HappySad.Training.Persistence;

namespace HappySad.Training.Data;

/// <summary>Which part of a photo a model looks at.</summary>
public enum CropMode
{
    /// <summary>The whole photo, resized to a square ignoring its aspect ratio (the notebook's way).</summary>
    None,

    /// <summary>The largest face found, or the whole photo when there is none.</summary>
    Face,
}

/// <summary>
/// How a photo becomes a network's input: decoded, optionally cropped to a face, resized to
/// <see cref="InputSize"/>. Training and prediction both go through this, built from the model card,
/// so a model always sees photos prepared the way it was trained.
/// </summary>
public sealed record ImagePreparation(int InputSize, CropMode Crop = CropMode.None, double FaceMargin = 0)
{
    public static ImagePreparation Notebook { get; } = new(ImageDecoder.DefaultSize);

    public static ImagePreparation From(Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        return new ImagePreparation(preprocessing.InputSize, preprocessing.Crop, preprocessing.FaceMargin);
    }

    public DecodedImage Prepare(byte[] bytes, ImageLimits? limits = null) => Crop switch
    {
        CropMode.Face => FaceCrop.Prepare(bytes, InputSize, FaceMargin, limits),
        _ => ImageDecoder.Decode(bytes, InputSize, limits),
    };

    public DecodedImage Prepare(string path, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        ImageDecoder.RejectOversizedFile(path, limits);
        return Prepare(File.ReadAllBytes(path), limits);
    }
}
