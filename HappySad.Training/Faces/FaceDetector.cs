using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using HappySad.Training.Data;
using HappySad.Training.Native;
using SkiaSharp;
using static TorchSharp.torch;

namespace HappySad.Training.Faces;

/// <summary>The face detectors we port from face-api, by the name model cards record.</summary>
public enum FaceDetectorKind
{
    /// <summary>face-api's <c>TinyFaceDetector</c> at 416 px: fast, but finds about half the faces in web photos.</summary>
    TinyFaceDetector,

    /// <summary>face-api's <c>SsdMobilenetv1</c> at 512 px: slower, and finds far more faces.</summary>
    SsdMobilenetV1,
}

/// <summary>
/// A ported face-api detector: the image is scaled so its longer side is <see cref="InputSize"/>
/// and placed top left on a black square (face-api pads after the image), the network runs once,
/// and its boxes, relative to the unpadded image, go through non-maximum suppression.
/// </summary>
public abstract class FaceDetector : IDisposable
{
    static readonly Lock SharedLock = new();
    static readonly Dictionary<FaceDetectorKind, FaceDetector> SharedDetectors = [];

    /// <summary>One forward pass at a time while a pass uses every core (callers decode images in parallel): see <see cref="IntraOpThreads.OnePassAtATime"/>.</summary>
    readonly Lock _inference = new();

    public abstract int InputSize { get; }

    /// <summary>Overlap above which the weaker of two boxes is dropped.</summary>
    public abstract double IouThreshold { get; }

    /// <summary>The process-wide detector of a kind, built from the pretrained weights on first use (fetching them if needed).</summary>
    public static FaceDetector Shared(FaceDetectorKind kind)
    {
        lock (SharedLock)
        {
            if (!SharedDetectors.TryGetValue(kind, out var detector))
            {
                TorchRuntime.EnsureInitialized();
                detector = SharedNetworks.Build<FaceDetector>(() => kind switch
                {
                    FaceDetectorKind.TinyFaceDetector => TinyFaceDetector.FromPretrained(),
                    _ => SsdFaceDetector.FromPretrained(),
                });
                SharedDetectors[kind] = detector;
            }
            return detector;
        }
    }

    /// <summary>Every face scoring over <paramref name="minScore"/>, most confident first.</summary>
    public IReadOnlyList<FaceBox> Detect(SKBitmap image, double minScore)
    {
        ArgumentNullException.ThrowIfNull(image);
        var size = InputSize;
        var scale = (double)size / Math.Max(image.Width, image.Height);
        var (width, height) = (Math.Max(1, (int)Math.Round(image.Width * scale)), Math.Max(1, (int)Math.Round(image.Height * scale)));
        // The photo top left on a black square, as face-api pads it.
        var pixels = new byte[size * size * 3];
        if (!SkiaBilinear.TryScaleToRgb(image, width, height, pixels, size * 3) && !ScaleWithSkia(image, width, height, pixels, size))
            return [];
        var (correctionX, correctionY) = ((double)size / width, (double)size / height);
        // face-api's boxes may reach into the padding past the photo's edge; ours stop at it.
        return [.. OnePass(() => Faces(pixels, minScore, correctionX, correctionY)).Select(ClipToImage).OfType<FaceBox>()];
    }

    /// <summary>Skia's own scaling, for the pixel formats <see cref="SkiaBilinear"/> does not take (the same pixels where both do).</summary>
    static bool ScaleWithSkia(SKBitmap image, int width, int height, byte[] pixels, int size)
    {
        using var resized = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!image.ScalePixels(resized, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)))
            return false;
        var rgba = resized.GetPixelSpan();
        for (var y = 0; y < height; y++)
        {
            for (int x = 0, src = y * width * 4, dst = y * size * 3; x < width; x++, src += 4, dst += 3)
            {
                pixels[dst] = rgba[src];
                pixels[dst + 1] = rgba[src + 1];
                pixels[dst + 2] = rgba[src + 2];
            }
        }
        return true;
    }

    /// <summary>The part of a box inside the image, or null when too little of it is left to be a face.</summary>
    internal static FaceBox? ClipToImage(FaceBox box)
    {
        var (x0, y0) = (Math.Max(0, box.X), Math.Max(0, box.Y));
        var (x1, y1) = (Math.Min(1, box.Right), Math.Min(1, box.Bottom));
        return x1 - x0 < 0.01 || y1 - y0 < 0.01 ? null : box with { X = x0, Y = y0, Width = x1 - x0, Height = y1 - y0 };
    }

    /// <summary>
    /// The faces in an already scaled and padded input (<c>[1, 3, InputSize, InputSize]</c>, 0..1),
    /// where the image covers <c>1 / correction</c> of each side; boxes are relative to the image.
    /// </summary>
    public IReadOnlyList<FaceBox> Detect(Tensor input, double minScore, double correctionX, double correctionY)
    {
        ArgumentNullException.ThrowIfNull(input);
        return OnePass(() => Faces(input, minScore, correctionX, correctionY));
    }

    IReadOnlyList<FaceBox> OnePass(Func<IReadOnlyList<FaceBox>> pass) => IntraOpThreads.OnePassAtATime(_inference, () =>
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return pass();
    });

    /// <summary>
    /// The faces over <paramref name="minScore"/> after suppression, from one forward pass on
    /// <paramref name="input"/> (<c>[1, 3, InputSize, InputSize]</c>), most confident first, scaled by
    /// the corrections so they are relative to the unpadded image.
    /// </summary>
    protected abstract IReadOnlyList<FaceBox> Faces(Tensor input, double minScore, double correctionX, double correctionY);

    /// <summary>
    /// <see cref="Faces(Tensor, double, double, double)"/> on the padded square as HWC RGB bytes. A
    /// detector whose network first shifts its 0..1 input overrides this to shift the bytes instead
    /// (<see cref="ChannelsLastInput"/>), which costs a fraction of libtorch's broadcast over three channels.
    /// </summary>
    protected virtual IReadOnlyList<FaceBox> Faces(byte[] pixels, double minScore, double correctionX, double correctionY) =>
        Faces(ChannelsLastInput(pixels, InputSize, NoOffsets), minScore, correctionX, correctionY);

    static readonly float[] NoOffsets = [0f, 0f, 0f];

    /// <summary>
    /// HWC RGB bytes of a <paramref name="size"/>-pixel square as a <c>[1, 3, size, size]</c> float
    /// tensor in channels-last memory: each byte divided by 255, less its channel's offset. The same
    /// single-precision operations as libtorch's <c>to_type(Float32).div_(255).sub(offsets)</c>, so the
    /// same values to the bit (the tests compare all 256 bytes in each channel).
    /// </summary>
    internal static Tensor ChannelsLastInput(byte[] pixels, int size, ReadOnlySpan<float> offsets)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfNotEqual(pixels.Length, size * size * 3);
        ArgumentOutOfRangeException.ThrowIfNotEqual(offsets.Length, 3);
        // Written straight into the tensor's memory: no array to copy in after.
        using var hwc = empty([1, size, size, 3], ScalarType.Float32);
        var values = MemoryMarshal.Cast<byte, float>(hwc.bytes);
        // Four lanes against a period of three channels: three patterns of offsets, twelve values a step.
        var first = Vector128.Create(offsets[0], offsets[1], offsets[2], offsets[0]);
        var second = Vector128.Create(offsets[1], offsets[2], offsets[0], offsets[1]);
        var third = Vector128.Create(offsets[2], offsets[0], offsets[1], offsets[2]);
        var divisor = Vector128.Create(255f);
        var i = 0;
        for (; i + Vector128<byte>.Count <= pixels.Length; i += 12)
        {
            var (low, high) = Vector128.Widen(Vector128.Create<byte>(pixels.AsSpan(i)));
            var (lowest, next) = Vector128.Widen(low);
            ((Vector128.ConvertToSingle(lowest) / divisor) - first).CopyTo(values[i..]);
            ((Vector128.ConvertToSingle(next) / divisor) - second).CopyTo(values[(i + 4)..]);
            ((Vector128.ConvertToSingle(Vector128.WidenLower(high)) / divisor) - third).CopyTo(values[(i + 8)..]);
        }
        for (; i < pixels.Length; i++)
            values[i] = (pixels[i] / 255f) - offsets[i % 3];
        return hwc.permute(0, 3, 1, 2);
    }

    /// <summary>Greedy non-maximum suppression, as both of face-api's detectors do it: the most confident box wins.</summary>
    internal static IReadOnlyList<FaceBox> Suppress(IEnumerable<FaceBox> candidates, double iouThreshold)
    {
        var kept = new List<FaceBox>();
        foreach (var box in candidates.OrderByDescending(b => b.Score))
        {
            if (kept.All(k => k.IntersectionOverUnion(box) <= iouThreshold))
                kept.Add(box);
        }
        return kept;
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);
}
