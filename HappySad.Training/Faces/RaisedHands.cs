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
/// ask only for photos without a face found, where nothing else is read: on the seed photos without
/// a face, 15 of 29 happy ones show it and none of 57 sad ones (README, "Raised hands").
/// </summary>
public sealed record RaisedHands
{
    /// <summary>The settings measured on the seed photos, their mirror images and greyscale copies.</summary>
    public static RaisedHands Default { get; } = new();

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

    /// <summary>One line for model cards and reports.</summary>
    public string Describe() =>
        FormattableString.Invariant($"photos without a face: a hand raised above the head (movenet-multipose, {HumanModelsPackage.Label}; person > {MinPersonScore:0.##}, keypoints > {MinKeypointScore:0.##}, wrist above the head by {HeadMargin:0.##} of its height to the shoulder)");

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

    /// <summary>The process-wide network and the photo's preparation for it.</summary>
    sealed class Reader
    {
        static readonly Lazy<Reader> Instance = new(() => new Reader(), LazyThreadSafetyMode.ExecutionAndPublication);
        readonly MoveNetMultiPose _net;
        readonly Lock _inference = new();

        Reader()
        {
            TorchRuntime.EnsureInitialized();
            _net = MoveNetMultiPose.FromPretrained(TfjsWeights.Load(HumanModelsPackage.MoveNetModel()));
        }

        public static Reader Shared => Instance.Value;

        /// <summary>
        /// The people in <paramref name="image"/>, prepared as <c>human</c> and our reference script
        /// prepare a photo for MoveNet: zeros after the shorter side to make it square, TensorFlow's
        /// bilinear resize to 256 (no half-pixel centres), whole pixel values by truncation.
        /// </summary>
        public IReadOnlyList<Pose> People(SKBitmap image)
        {
            var rgb = RgbPlanes(image);
            return IntraOpThreads.OnePassAtATime(_inference, () =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                using var planes = tensor(rgb, [3, image.Height, image.Width]);
                var side = Math.Max(image.Width, image.Height);
                using var rows = tensor(ResizeWeights(side, image.Height), [MoveNetMultiPose.InputSize, image.Height]);
                using var columns = tensor(ResizeWeights(side, image.Width), [MoveNetMultiPose.InputSize, image.Width]);
                var input = matmul(matmul(rows, planes), columns.t()).floor_().unsqueeze(0);
                // The network runs channels-last, as the detectors do.
                return MoveNetMultiPose.Decode(_net.forward(input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2))[0]);
            });
        }

        static float[] RgbPlanes(SKBitmap image)
        {
            using var rgba = image.ColorType == SKColorType.Rgba8888 ? null : image.Copy(SKColorType.Rgba8888);
            var pixels = (rgba ?? image).GetPixelSpan();
            var plane = image.Width * image.Height;
            var planes = new float[3 * plane];
            for (var i = 0; i < plane; i++)
            {
                planes[i] = pixels[4 * i];
                planes[plane + i] = pixels[(4 * i) + 1];
                planes[(2 * plane) + i] = pixels[(4 * i) + 2];
            }
            return planes;
        }

        /// <summary>
        /// One axis of TensorFlow's <c>resizeBilinear(alignCorners: false, halfPixelCenters: false)</c>
        /// of the photo padded to <paramref name="side"/>: output pixel i samples position
        /// i * side / 256 between its two neighbours; positions in the padding read zeros, so they have
        /// no column here.
        /// </summary>
        static float[] ResizeWeights(int side, int length)
        {
            var size = MoveNetMultiPose.InputSize;
            var weights = new float[size * length];
            var scale = (double)side / size;
            for (var i = 0; i < size; i++)
            {
                var source = i * scale;
                var low = (int)Math.Floor(source);
                var high = Math.Min(low + 1, side - 1);
                var lerp = (float)(source - low);
                if (low < length)
                    weights[(i * length) + low] += 1 - lerp;
                if (high < length)
                    weights[(i * length) + high] += lerp;
            }
            return weights;
        }
    }
}
