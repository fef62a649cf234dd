using SkiaSharp;

namespace HappySad.Training.Faces;

/// <summary>
/// How a model looks for faces, recorded in its card so prediction finds the faces training found:
/// which detector, from what score a box counts, and whether to look again, differently, when the
/// first look finds nothing.
/// </summary>
public sealed record FaceDetection
{
    /// <summary>
    /// What new face models use: the tiny detector's clear faces (score over 0.7), else the SSD
    /// detector at score 0.4, looking again when it finds nothing, last at a close-up from further
    /// away. On the 301 seed photos, against hand-made labels (README, "Finding faces"): 95.9% of the
    /// readable faces found, a face "found" in 1 of the 51 photos with none.
    /// </summary>
    public static FaceDetection Default { get; } = new() { CloseUpMinScore = 0.6, HappiestFace = true };

    /// <summary>What face models were built with before the card recorded this: the tiny detector, score 0.5, one look.</summary>
    public static FaceDetection Legacy { get; } = new() { Detector = FaceDetectorKind.TinyFaceDetector, MinScore = 0.5, ExtraPasses = false, TinyFirstMinScore = 0 };

    public FaceDetectorKind Detector { get; init; } = FaceDetectorKind.SsdMobilenetV1;

    /// <summary>
    /// With the SSD detector: first ask the tiny one (a sixth of the cost), and take its faces when
    /// one scores above this. It settles the clear faces (a third of the seed photos) at no loss of
    /// recall; 0 turns the first look off.
    /// </summary>
    public double TinyFirstMinScore { get; init; } = 0.7;

    /// <summary>A box counts as a face when the detector scores it above this.</summary>
    public double MinScore { get; init; } = 0.4;

    /// <summary>
    /// The score a box needs in the zoomed-out and turned looks: more looks are more chances to
    /// mistake something for a face, so they ask for more.
    /// </summary>
    public double ExtraPassMinScore { get; init; } = 0.5;

    /// <summary>The score a box needs in the tiled look, whose halves lack the context that rules out face-like patterns.</summary>
    public double TileMinScore { get; init; } = 0.7;

    /// <summary>
    /// When the first look finds no face, look again at the photo zoomed out (faces that fill the
    /// frame), turned 25 degrees either way (tilted heads), and in two overlapping halves, each seen
    /// at the detector's full size (small faces). Photos with a face found at once cost nothing more.
    /// </summary>
    public bool ExtraPasses { get; init; } = true;

    /// <summary>
    /// With <see cref="ExtraPasses"/>, when every other look finds nothing: the photo zoomed out
    /// further (<see cref="CloseUpZoom"/> times), for a face so close that it fills the frame even
    /// at the first zoom (a laughing head thrown back, hands over a face), counted from this score.
    /// 0 skips the look: cards from before it was added say nothing of it, and keep finding what
    /// they found.
    /// </summary>
    public double CloseUpMinScore { get; init; }

    const double CloseUpZoom = 2.4;

    /// <summary>
    /// With more than one face found, read the one face-api's expression network reads as happiest
    /// (among the faces at least a quarter of the largest one's area, at most six) rather than the
    /// largest. Group photos are mostly happy ones (57 of the 104 happy seed photos labelled with a
    /// face show more than one, against 8 of 91 sad ones), and in a group the largest face is not
    /// always the one smiling (README, "Choosing a model"). False in cards from before it was added:
    /// they keep reading the largest face.
    /// </summary>
    public bool HappiestFace { get; init; }

    /// <summary>
    /// For a photo where no face is found (or the face is small, <see cref="Faces.RaisedHands.MaxFaceHeight"/>),
    /// whether to look for someone raising a hand above their head, and how (<see cref="Faces.RaisedHands"/>). Only models that read it set it (their card
    /// records it; the two views mark it, see <see cref="FaceCrop.PrepareWithWhole"/>); null in every
    /// other card, whose photos without a face are read as before.
    /// </summary>
    /// <remarks>Left out of JSON when null, so cards and pixel-cache keys without it read as they did.</remarks>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public RaisedHands? RaisedHands { get; init; }

    /// <summary>One line for model cards and reports.</summary>
    public string Describe() =>
        (UsesTinyFirst ? $"tiny-face-detector when it scores > {TinyFirstMinScore:0.##}, else " : "") +
        $"{(Detector == FaceDetectorKind.SsdMobilenetV1 ? "ssd-mobilenet-v1" : "tiny-face-detector")} ({Pretrained.FaceApiPackage.Label}), " +
        $"score > {MinScore:0.##}{(ExtraPasses ? $"; when nothing is found, zoomed out and turned (score > {ExtraPassMinScore:0.##}) and tiled (score > {TileMinScore:0.##})" : "")}" +
        $"{(ExtraPasses && CloseUpMinScore > 0 ? $", then zoomed out further (score > {CloseUpMinScore:0.##})" : "")}; " +
        (HappiestFace ? "of the faces at least a quarter of the largest's area, the one face-api's expression network reads as happiest" : "largest face") +
        (RaisedHands is { } hands ? "; " + hands.Describe() : "");

    bool UsesTinyFirst => Detector == FaceDetectorKind.SsdMobilenetV1 && TinyFirstMinScore > 0;

    /// <summary>Every face found, most confident first, in fractions of <paramref name="image"/>.</summary>
    public IReadOnlyList<FaceBox> Find(SKBitmap image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (UsesTinyFirst && FaceDetector.Shared(FaceDetectorKind.TinyFaceDetector).Detect(image, TinyFirstMinScore) is { Count: > 0 } clear)
            return clear;
        var detector = FaceDetector.Shared(Detector);
        var faces = detector.Detect(image, MinScore);
        if (faces.Count > 0 || !ExtraPasses)
            return faces;
        faces = ZoomedOut(image, detector, Math.Max(MinScore, ExtraPassMinScore), 1.6);
        if (faces.Count == 0)
            faces = Turned(image, detector, Math.Max(MinScore, ExtraPassMinScore), 25);
        if (faces.Count == 0)
            faces = Turned(image, detector, Math.Max(MinScore, ExtraPassMinScore), -25);
        if (faces.Count == 0)
            faces = Tiled(image, detector, Math.Max(MinScore, TileMinScore));
        if (faces.Count == 0 && CloseUpMinScore > 0)
            faces = ZoomedOut(image, detector, Math.Max(MinScore, CloseUpMinScore), CloseUpZoom);
        return faces;
    }

    /// <summary>The photo in the middle of a larger grey canvas: a face that fills the frame becomes one of the sizes the detector knows.</summary>
    static IReadOnlyList<FaceBox> ZoomedOut(SKBitmap image, FaceDetector detector, double minScore, double factor)
    {
        var (width, height) = ((int)(image.Width * factor), (int)(image.Height * factor));
        var (left, top) = ((width - image.Width) / 2, (height - image.Height) / 2);
        using var canvasBitmap = ZoomedOutCanvas(image, factor);
        return [.. detector.Detect(canvasBitmap, minScore)
            .Select(f => FaceDetector.ClipToImage(new FaceBox(((f.X * width) - left) / image.Width, ((f.Y * height) - top) / image.Height, f.Width * width / image.Width, f.Height * height / image.Height, f.Score)))
            .OfType<FaceBox>()];
    }

    /// <summary>The photo turned about its centre: a tilted head becomes upright. Boxes come back as the upright box around the turned one.</summary>
    static List<FaceBox> Turned(SKBitmap image, FaceDetector detector, double minScore, float degrees)
    {
        var (width, height) = (image.Width, image.Height);
        using var turned = Canvas(width, height, canvas =>
        {
            canvas.RotateDegrees(degrees, width / 2f, height / 2f);
            Draw(canvas, image, 0, 0);
        });
        var back = SKMatrix.CreateRotationDegrees(-degrees, width / 2f, height / 2f);
        var faces = new List<FaceBox>();
        foreach (var f in detector.Detect(turned, minScore))
        {
            var corners = back.MapPoints(
            [
                new SKPoint((float)(f.X * width), (float)(f.Y * height)), new SKPoint((float)(f.Right * width), (float)(f.Y * height)),
                new SKPoint((float)(f.X * width), (float)(f.Bottom * height)), new SKPoint((float)(f.Right * width), (float)(f.Bottom * height)),
            ]);
            var (x0, x1) = (corners.Min(p => p.X) / width, corners.Max(p => p.X) / width);
            var (y0, y1) = (corners.Min(p => p.Y) / height, corners.Max(p => p.Y) / height);
            if (FaceDetector.ClipToImage(new FaceBox(x0, y0, x1 - x0, y1 - y0, f.Score)) is { } box)
                faces.Add(box);
        }
        return faces;
    }

    /// <summary>Two overlapping halves along the longer side, each seen at the detector's full size: faces too small in the whole photo.</summary>
    static IReadOnlyList<FaceBox> Tiled(SKBitmap image, FaceDetector detector, double minScore)
    {
        var horizontal = image.Width >= image.Height;
        var length = horizontal ? image.Width : image.Height;
        var tile = (int)(length * 0.6);
        var faces = new List<FaceBox>();
        foreach (var offset in (int[])[0, length - tile])
        {
            var region = horizontal ? new SKRectI(offset, 0, offset + tile, image.Height) : new SKRectI(0, offset, image.Width, offset + tile);
            using var part = new SKBitmap();
            if (!image.ExtractSubset(part, region))
                continue;
            foreach (var f in detector.Detect(part, minScore))
            {
                var box = horizontal
                    ? new FaceBox(((f.X * tile) + offset) / image.Width, f.Y, f.Width * tile / image.Width, f.Height, f.Score)
                    : new FaceBox(f.X, ((f.Y * tile) + offset) / image.Height, f.Width, f.Height * tile / image.Height, f.Score);
                faces.Add(box);
            }
        }
        return FaceDetector.Suppress(faces, detector.IouThreshold);
    }

    /// <summary>
    /// The photo in the middle of a grey canvas <paramref name="factor"/> times its size. An opaque
    /// RGBA photo is copied in row by row: Skia's drawing at a whole-pixel offset gives the same bytes
    /// (checked on every seed photo at both zooms, and by <c>FaceDetectionTests</c>) at seven times
    /// the cost. A photo with any transparent pixel is drawn, blended over the grey.
    /// </summary>
    internal static SKBitmap ZoomedOutCanvas(SKBitmap image, double factor)
    {
        var (width, height) = ((int)(image.Width * factor), (int)(image.Height * factor));
        var (left, top) = ((width - image.Width) / 2, (height - image.Height) / 2);
        if (image.ColorType != SKColorType.Rgba8888 || !IsOpaque(image))
            return Canvas(width, height, canvas => Draw(canvas, image, left, top));
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var target = bitmap.GetPixelSpan();
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(target).Fill(BitConverter.IsLittleEndian ? 0xFF808080u : 0x808080FFu);
        var source = image.GetPixelSpan();
        for (var y = 0; y < image.Height; y++)
            source.Slice(y * image.RowBytes, image.Width * 4).CopyTo(target[(((y + top) * bitmap.RowBytes) + (left * 4))..]);
        return bitmap;
    }

    /// <summary>Every pixel's alpha byte is 255 (a bitmap marked opaque may hold other bytes there, which Skia ignores and a copy would not).</summary>
    static bool IsOpaque(SKBitmap image)
    {
        var pixels = image.GetPixelSpan();
        for (var y = 0; y < image.Height; y++)
        {
            var row = pixels.Slice(y * image.RowBytes, image.Width * 4);
            for (var alpha = 3; alpha < row.Length; alpha += 4)
            {
                if (row[alpha] != byte.MaxValue)
                    return false;
            }
        }
        return true;
    }

    static SKBitmap Canvas(int width, int height, Action<SKCanvas> draw)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(new SKColor(128, 128, 128));
        draw(canvas);
        return bitmap;
    }

    static void Draw(SKCanvas canvas, SKBitmap image, float left, float top)
    {
        using var picture = SKImage.FromBitmap(image);
        using var paint = new SKPaint { IsAntialias = true };
        canvas.DrawImage(picture, left, top, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None), paint);
    }
}
