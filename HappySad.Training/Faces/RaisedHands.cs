using System.Text.Json.Serialization;
using HappySad.Training.Models.Human;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using SkiaSharp;
using static TorchSharp.torch;

namespace HappySad.Training.Faces;

/// <summary>
/// Whether a photo shows someone with a hand raised above their head, by <c>human-models</c>' MoveNet
/// MultiPose (<see cref="MoveNetMultiPose"/>): a person scoring over <see cref="MinPersonScore"/> with
/// a wrist (keypoint score over <see cref="MinKeypointScore"/>) above its shoulder and above every
/// visible eye, ear and nose of that person by <see cref="HeadMargin"/> of the height from the
/// highest of them to the shoulder. Models that read it (<see cref="FaceDetection.RaisedHands"/>)
/// ask for photos without a face found, where nothing else is read: on the seed photos without
/// a face, 15 of 29 happy ones show it and none of 57 sad ones (README, "Raised hands"); and, with
/// <see cref="MaxFaceHeight"/>, for photos whose face is small in the frame.
/// </summary>
public sealed record RaisedHands
{
    /// <summary>The settings measured on the seed photos, their mirror images and greyscale copies.</summary>
    public static RaisedHands Default { get; } = new() { MaxFaceHeight = 0.25 };

    /// <summary>A person counts when MoveNet scores them above this.</summary>
    public double MinPersonScore { get; init; } = 0.2;

    /// <summary>A keypoint counts when MoveNet scores it above this.</summary>
    public double MinKeypointScore { get; init; } = 0.3;

    /// <summary>
    /// How far above the head a wrist must be, as a fraction of the height from the top of the head's
    /// visible keypoints to the shoulder: hands held over a face (the eyes hidden, the wrists above the
    /// nose) are at the head, not above it.
    /// </summary>
    public double HeadMargin { get; init; } = 0.25;

    /// <summary>
    /// A photo whose face (the one the model would read) is less than this share of the photo's height
    /// is looked at for raised hands too, and where someone raises a hand above their head it is read
    /// as raised hands, not by its face. A face that small is a body in the frame (jumping, cheering),
    /// and its expression the hardest to read: on the seed photos, 8 of the 24 happy photos with a face
    /// and a hand above a head were read sad by their face, 7 of them with a face under a quarter of the
    /// photo's height, and no sad photo with a face shows a hand above a head (README, "Raised hands
    /// over a small face"). Null in cards from before it was added: they look only where no face is found.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MaxFaceHeight { get; init; }

    /// <summary>Whether a photo whose face is <paramref name="face"/> (null: none found) is looked at for raised hands.</summary>
    public bool LooksOver(FaceBox? face) => face is null || (MaxFaceHeight is { } max && face.Height < max);

    /// <summary>One line for model cards and reports.</summary>
    public string Describe() =>
        FormattableString.Invariant($"photos without a face{(MaxFaceHeight is { } max ? $" or with a face under {max:0.##} of their height" : "")}: a hand raised above the head (movenet-multipose, {HumanModelsPackage.Label}; person > {MinPersonScore:0.##}, keypoints > {MinKeypointScore:0.##}, wrist above the head by {HeadMargin:0.##} of its height to the shoulder)");

    /// <summary>Whether anyone in <paramref name="image"/> raises a hand above their head.</summary>
    public bool Find(SKBitmap image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Shows(Reader.Shared.People(image));
    }

    /// <summary>Whether any of <paramref name="people"/> raises a hand above their head.</summary>
    public bool Shows(IEnumerable<Pose> people)
    {
        ArgumentNullException.ThrowIfNull(people);
        return people.Any(p => p.Score > MinPersonScore && RaisesAHand(p));
    }

    bool RaisesAHand(Pose person)
    {
        var points = person.Keypoints;
        bool Seen(int k) => points[k].Score > MinKeypointScore;
        var head = Enumerable.Range(0, 5).Where(Seen).Select(k => points[k].Y).ToList();
        if (head.Count == 0)
            return false;
        var top = head.Min();
        foreach (var (wrist, shoulder) in (ReadOnlySpan<(int, int)>)[(LeftWrist, LeftShoulder), (RightWrist, RightShoulder)])
        {
            if (!Seen(wrist) || !Seen(shoulder) || points[wrist].Y >= points[shoulder].Y)
                continue;
            var reach = points[shoulder].Y - top;
            if (points[wrist].Y < top - (HeadMargin * reach))
                return true;
        }
        return false;
    }

    const int LeftShoulder = 5;
    const int RightShoulder = 6;
    const int LeftWrist = 9;
    const int RightWrist = 10;

    /// <summary>
    /// MoveNet's input for <paramref name="image"/>, prepared as <c>human</c> and our reference script
    /// prepare a photo: zeros after the shorter side to make it square, TensorFlow's
    /// <c>resizeBilinear(alignCorners: false, halfPixelCenters: false)</c> to 256 (output pixel i samples
    /// position i * side / 256 between its two neighbours), whole values by truncation. NHWC,
    /// <c>256 x 256 x 3</c> values 0..255. Only the four source pixels of each output pixel are read,
    /// so a large photo costs no more than a small one.
    /// </summary>
    internal static float[] MoveNetInput(SKBitmap image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var converted = image.ColorType == SKColorType.Rgba8888 ? null : image.Copy(SKColorType.Rgba8888);
        var rgbaImage = converted ?? image;
        var pixels = rgbaImage.GetPixelSpan();
        var (width, height, rowBytes) = (image.Width, image.Height, rgbaImage.RowBytes);
        var size = MoveNetMultiPose.InputSize;
        var side = Math.Max(width, height);
        var scale = (double)side / size;
        var input = new float[size * size * 3];
        for (var y = 0; y < size; y++)
        {
            var sourceY = y * scale;
            var (y0, dy) = ((int)Math.Floor(sourceY), sourceY - Math.Floor(sourceY));
            var y1 = Math.Min(y0 + 1, side - 1);
            for (var x = 0; x < size; x++)
            {
                var sourceX = x * scale;
                var (x0, dx) = ((int)Math.Floor(sourceX), sourceX - Math.Floor(sourceX));
                var x1 = Math.Min(x0 + 1, side - 1);
                for (var c = 0; c < 3; c++)
                {
                    var (a, b) = (At(pixels, x0, y0, c), At(pixels, x1, y0, c));
                    var (d, e) = (At(pixels, x0, y1, c), At(pixels, x1, y1, c));
                    var top = a + ((b - a) * dx);
                    var bottom = d + ((e - d) * dx);
                    input[(((y * size) + x) * 3) + c] = MathF.Floor((float)(top + ((bottom - top) * dy)));
                }
            }
        }
        return input;

        // Past the photo's edge is the padding: zeros. Rows are RowBytes apart (a subset of a larger bitmap has gaps).
        double At(ReadOnlySpan<byte> rgba, int px, int py, int c) => px < width && py < height ? rgba[(py * rowBytes) + (px * 4) + c] : 0;
    }

    /// <summary>The process-wide network, loaded on first use; a load that fails (offline, say) is tried again by the next caller.</summary>
    sealed class Reader
    {
        static readonly Lock SharedLock = new();
        static Reader? _shared;
        readonly MoveNetMultiPose _net;
        readonly Lock _inference = new();

        Reader(MoveNetMultiPose net) => _net = net;

        public static Reader Shared
        {
            get
            {
                lock (SharedLock)
                {
                    if (_shared is null)
                    {
                        TorchRuntime.EnsureInitialized();
                        _shared = new Reader(SharedNetworks.Build(() => MoveNetMultiPose.FromPretrained(TfjsWeights.Load(HumanModelsPackage.MoveNetModel()))));
                    }
                    return _shared;
                }
            }
        }

        /// <summary>The people in <paramref name="image"/> (<see cref="MoveNetInput"/>); one pass at a time while a pass takes every core, the decoding outside that.</summary>
        public IReadOnlyList<Pose> People(SKBitmap image)
        {
            var pixels = MoveNetInput(image);
            using var scope = NewDisposeScope();
            var heads = IntraOpThreads.OnePassAtATime(_inference, () =>
            {
                using var inner = NewDisposeScope();
                using var noGrad = no_grad();
                var size = MoveNetMultiPose.InputSize;
                // NHWC permuted to NCHW: channels-last in memory, as the detectors run.
                using var input = tensor(pixels, [1, size, size, 3]);
                return _net.forward(input.permute(0, 3, 1, 2))[0].MoveToOuterDisposeScope();
            });
            return MoveNetMultiPose.Decode(heads);
        }
    }
}
