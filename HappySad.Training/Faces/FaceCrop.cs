using HappySad.Training.Data;
using SkiaSharp;

namespace HappySad.Training.Faces;

/// <summary>
/// Crops an image to its largest face (or its happiest-looking, <see cref="FaceDetection.HappiestFace"/>)
/// the way face-api feeds its expression network: the detector's box (widened by a margin, clipped to
/// the image) padded to a square with black, centred, then resized. With no face found, the whole
/// image is resized instead, as a model without the crop would see it.
/// </summary>
public static class FaceCrop
{
    /// <summary>Decodes at a resolution that keeps small faces usable: both sides at least this (or the full image).</summary>
    internal const int WorkingSize = 512;

    public static DecodedImage Prepare(ReadOnlySpan<byte> bytes, int size, double margin, ImageLimits? limits, FaceDetection detection)
    {
        using var source = ImageDecoder.DecodeBitmap(bytes, WorkingSize, limits, SourceUse.FaceWork);
        var face = ChosenFace(source.Bitmap, detection, margin);
        if (face is null)
            return new DecodedImage(ImageDecoder.ResizeToRgb(source.Bitmap, size), size, source.Format, source.Width, source.Height);
        return new DecodedImage(Crop(source.Bitmap, face, size, margin), size, source.Format, source.Width, source.Height) { Found = new PhotoFindings(face) };
    }

    /// <summary>
    /// Two views stacked vertically (<see cref="CropMode.FaceAndWhole"/>): the largest face as
    /// <see cref="Prepare"/> crops it, or all black when there is none, above the whole image resized.
    /// With <see cref="FaceDetection.RaisedHands"/>, a photo without a face where someone raises a hand
    /// above their head has the face view's last row white (<see cref="RaisedHandsRow"/>): the model
    /// reads that mark, and the rest of the face view stays black, so "no face" reads as before. A photo
    /// whose face is small (<see cref="RaisedHands.MaxFaceHeight"/>) and where someone raises a hand is
    /// marked the same way instead of cropped, so the model reads its raised hands, not its face; its
    /// findings keep the face, to show where it was.
    /// </summary>
    public static DecodedImage PrepareWithWhole(ReadOnlySpan<byte> bytes, int size, double margin, ImageLimits? limits, FaceDetection detection)
    {
        using var source = ImageDecoder.DecodeBitmap(bytes, WorkingSize, limits, SourceUse.FaceWork);
        var face = ChosenFace(source.Bitmap, detection, margin);
        var viewBytes = size * size * 3;
        var rgb = new byte[2 * viewBytes];
        var raisedHands = detection.RaisedHands is { } hands && hands.LooksOver(face) && hands.Find(source.Bitmap);
        if (face is not null && !raisedHands)
            Crop(source.Bitmap, face, size, margin).CopyTo(rgb, 0);
        if (raisedHands)
            rgb.AsSpan(RaisedHandsRow(size) * size * 3, size * 3).Fill(byte.MaxValue);
        ImageDecoder.ResizeToRgb(source.Bitmap, size).CopyTo(rgb, viewBytes);
        return new DecodedImage(rgb, size, source.Format, source.Width, source.Height) { Found = new PhotoFindings(face, raisedHands), Views = 2 };
    }

    /// <summary>The row of the face view that marks raised hands in a photo without a face (or with a small one): its last.</summary>
    public static int RaisedHandsRow(int size) => size - 1;

    /// <summary>The face a model reads: the largest, or with <see cref="FaceDetection.HappiestFace"/> the happiest-looking of the large ones.</summary>
    static FaceBox? ChosenFace(SKBitmap image, FaceDetection detection, double margin)
    {
        var faces = detection.Find(image);
        return detection.HappiestFace ? HappiestFace.Choose(image, faces, margin) : faces.MaxBy(f => f.Area);
    }

    /// <summary>The face region of <paramref name="image"/>, padded square and resized to <paramref name="size"/>: HWC RGB bytes.</summary>
    public static byte[] Crop(SKBitmap image, FaceBox face, int size, double margin)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(face);
        var left = Math.Clamp((face.X - (face.Width * margin)) * image.Width, 0, image.Width - 1);
        var top = Math.Clamp((face.Y - (face.Height * margin)) * image.Height, 0, image.Height - 1);
        var right = Math.Clamp((face.Right + (face.Width * margin)) * image.Width, left + 1, image.Width);
        var bottom = Math.Clamp((face.Bottom + (face.Height * margin)) * image.Height, top + 1, image.Height);
        var region = SKRectI.Round(new SKRect((float)left, (float)top, (float)right, (float)bottom));
        region.Intersect(new SKRectI(0, 0, image.Width, image.Height));
        if (region.Width < 1 || region.Height < 1)
            region = new SKRectI(0, 0, image.Width, image.Height);

        var scale = (float)size / Math.Max(region.Width, region.Height);
        var (width, height) = (region.Width * scale, region.Height * scale);
        var target = SKRect.Create((size - width) / 2, (size - height) / 2, width, height);
        using var output = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        output.Erase(SKColors.Black);
        using (var canvas = new SKCanvas(output))
        using (var picture = SKImage.FromBitmap(image))
            canvas.DrawImage(picture, SKRect.Create(region.Left, region.Top, region.Width, region.Height), target, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        return ImageDecoder.ToRgb(output);
    }
}
