using System.Text.Json.Serialization;
using HappySad.Training.Models.FaceApi;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using SkiaSharp;
using static TorchSharp.torch;

namespace HappySad.Training.Faces;

/// <summary>A face found in an image, in fractions of the image's width and height (0..1), with the detector's confidence.</summary>
public sealed record FaceBox(double X, double Y, double Width, double Height, double Score)
{
    [JsonIgnore]
    public double Right => X + Width;

    [JsonIgnore]
    public double Bottom => Y + Height;

    public double IntersectionOverUnion(FaceBox other)
    {
        var width = Math.Max(0, Math.Min(Right, other.Right) - Math.Max(X, other.X));
        var height = Math.Max(0, Math.Min(Bottom, other.Bottom) - Math.Max(Y, other.Y));
        var intersection = width * height;
        return intersection / ((Width * Height) + (other.Width * other.Height) - intersection);
    }
}

/// <summary>
/// Finds faces with the ported face-api <see cref="TinyFaceDetectorNet"/>, decoding its grid and
/// suppressing overlaps exactly as face-api's <c>TinyYolov2Base.detect</c> does: the image is scaled
/// so its longer side is <see cref="InputSize"/>, padded after its shorter side, and boxes scoring
/// over <see cref="ScoreThreshold"/> survive non-maximum suppression at IoU <see cref="IouThreshold"/>.
/// </summary>
public sealed class FaceDetector : IDisposable
{
    public const int InputSize = 416;
    public const double ScoreThreshold = 0.5;
    public const double IouThreshold = 0.4;

    static readonly Lock SharedLock = new();
    static FaceDetector? s_shared;

    readonly TinyFaceDetectorNet _net;

    /// <summary>One forward pass at a time: the network is small, and callers decode images in parallel.</summary>
    readonly Lock _inference = new();

    public FaceDetector(TinyFaceDetectorNet net) => _net = net;

    /// <summary>The process-wide detector, built from the pretrained weights on first use (fetching them if needed).</summary>
    public static FaceDetector Shared
    {
        get
        {
            lock (SharedLock)
            {
                if (s_shared is null)
                {
                    TorchRuntime.EnsureInitialized();
                    s_shared = new FaceDetector(TinyFaceDetectorNet.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.TinyFaceDetector))));
                }
                return s_shared;
            }
        }
    }

    /// <summary>Every face found, most confident first.</summary>
    public IReadOnlyList<FaceBox> Detect(SKBitmap image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var scale = (double)InputSize / Math.Max(image.Width, image.Height);
        var (width, height) = ((int)Math.Round(image.Width * scale), (int)Math.Round(image.Height * scale));
        // Scaled into the top-left corner of a black square, as face-api pads after the image.
        var pixels = new byte[InputSize * InputSize * 3];
        using (var resized = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            if (!image.ScalePixels(resized, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)))
                return [];
            var rgba = resized.GetPixelSpan();
            for (var y = 0; y < height; y++)
            {
                for (int x = 0, src = y * width * 4, dst = y * InputSize * 3; x < width; x++, src += 4, dst += 3)
                {
                    pixels[dst] = rgba[src];
                    pixels[dst + 1] = rgba[src + 1];
                    pixels[dst + 2] = rgba[src + 2];
                }
            }
        }

        float[] grid;
        int cells;
        lock (_inference)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = tensor(pixels, [1, InputSize, InputSize, 3], ScalarType.Byte).permute(0, 3, 1, 2).to_type(ScalarType.Float32).div_(255f);
            var output = _net.forward(input);
            cells = (int)output.shape[2];
            grid = output.permute(0, 2, 3, 1).contiguous().data<float>().ToArray();
        }
        return Decode(grid, cells, (double)InputSize / width, (double)InputSize / height, ScoreThreshold);
    }

    /// <summary>Boxes from the raw NHWC grid (cells x cells x 25), relative to the unpadded image, after non-maximum suppression.</summary>
    internal static IReadOnlyList<FaceBox> Decode(ReadOnlySpan<float> grid, int cells, double correctionX, double correctionY, double scoreThreshold)
    {
        var anchors = TinyFaceDetectorNet.Anchors;
        var candidates = new List<FaceBox>();
        for (var row = 0; row < cells; row++)
        {
            for (var col = 0; col < cells; col++)
            {
                for (var anchor = 0; anchor < anchors.Length; anchor++)
                {
                    var at = (((row * cells) + col) * anchors.Length * 5) + (anchor * 5);
                    var score = Sigmoid(grid[at + 4]);
                    if (score <= scoreThreshold)
                        continue;
                    var centreX = (col + Sigmoid(grid[at])) / cells * correctionX;
                    var centreY = (row + Sigmoid(grid[at + 1])) / cells * correctionY;
                    var width = Math.Exp(grid[at + 2]) * anchors[anchor].Width / cells * correctionX;
                    var height = Math.Exp(grid[at + 3]) * anchors[anchor].Height / cells * correctionY;
                    candidates.Add(new FaceBox(centreX - (width / 2), centreY - (height / 2), width, height, score));
                }
            }
        }

        var kept = new List<FaceBox>();
        foreach (var box in candidates.OrderByDescending(b => b.Score))
        {
            if (kept.All(k => k.IntersectionOverUnion(box) <= IouThreshold))
                kept.Add(box);
        }
        return kept;
    }

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    public void Dispose() => _net.Dispose();
}
